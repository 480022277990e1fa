"""The printable bundle: HTML to an A4 PDF with WeasyPrint (needs Debian's pango libraries)."""

from __future__ import annotations

from schemas.v1 import PolicyBundleV1
from services.aggregator.domain.render import render_html


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads pango when imported, and only this path needs it.
    import weasyprint

    # No base_url: the page has no external resources, and none may be fetched.
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def render_pdf(bundle: PolicyBundleV1) -> bytes:
    return html_to_pdf(render_html(bundle))
