"""Rendering a bundle for people (Markdown, Dutch) — pure.

Every string that came from a reporter (neighbourhood names) is escaped, so a signal cannot
inject formatting or links into what a steering group reads.
"""

from __future__ import annotations

import re

import jinja2

from schemas.v1 import CountCellV1, PolicyBundleV1

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~])")

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("services.aggregator.domain", "templates"),
    autoescape=False,  # noqa: S701 - Markdown, not HTML: the `md` filter escapes reporter text
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def show_count(cell: CountCellV1, min_group_size: int) -> str:
    return f"< {min_group_size}" if cell.suppressed else str(cell.count)


_ENVIRONMENT.filters["md"] = escape_markdown
_ENVIRONMENT.filters["count"] = show_count


def render_markdown(bundle: PolicyBundleV1) -> str:
    template = _ENVIRONMENT.get_template("bundle.md.jinja")
    return template.render(bundle=bundle)
