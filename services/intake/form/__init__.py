"""The phone form: a static app shell served by intake at ``/formulier/``.

Plain HTML, CSS and a JavaScript module, no build step and no external CDN: the page must open
on a cheap phone without a network (a service worker keeps the shell) and must not leak that a
reporter uses Seinpost to a third party. The files are fixed at start-up; only names on the
list below are ever served, so no request can reach another file on disk.

The page itself carries no data; what it shows comes from ``GET /v1/form-config`` with the
device's token, and what it sends goes to ``POST /v1/signals``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

FORM_PATH: Final = "/formulier/"

_TYPES: Final = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
}

# Everything from our own origin only: no CDN, no inline script, no framing by another site.
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # The enrolment link carries the token in the fragment, which browsers never send; this
    # keeps even the path out of any request to elsewhere.
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    cache_control: str


def _load_assets() -> dict[str, Asset]:
    static = files(__package__) / "static"
    raw = {name: (static / name).read_bytes() for name in _TYPES}
    # The service worker names its cache after the shell's content, so a new release replaces
    # the old shell on the next visit with a connection, and an unchanged one is kept.
    digest = hashlib.sha256()
    for name in sorted(raw):
        digest.update(name.encode())
        digest.update(raw[name])
    version = digest.hexdigest()[:16]
    raw["sw.js"] = raw["sw.js"].replace(b"__SHELL_VERSION__", version.encode())
    assets = {}
    for name, body in raw.items():
        # The page and the service worker script are fetched anew on every online visit, so
        # an update is seen at once; the other files are kept by the versioned shell cache.
        cache = "no-cache" if name in {"sw.js", "index.html"} else "public, max-age=300"
        assets[name] = Asset(body=body, media_type=_TYPES[name], cache_control=cache)
    return assets


_ASSETS: Final = _load_assets()

router = APIRouter(include_in_schema=False)


def _serve(name: str) -> Response:
    asset = _ASSETS[name]
    headers = {"Cache-Control": asset.cache_control, **_SECURITY_HEADERS}
    if name == "sw.js":
        headers["Service-Worker-Allowed"] = FORM_PATH
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/")
@router.get("/formulier")
async def to_form() -> RedirectResponse:
    # The service worker's scope is /formulier/ (with the slash), so the page lives there;
    # browsers keep an enrolment link's #token=… fragment across this redirect.
    return RedirectResponse(FORM_PATH, status_code=308)


@router.get(FORM_PATH)
async def form_page() -> Response:
    return _serve("index.html")


@router.get(FORM_PATH + "{name}")
async def form_asset(name: str) -> Response:
    if name not in _ASSETS or name == "index.html":
        raise HTTPException(status_code=404)
    return _serve(name)
