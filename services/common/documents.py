"""Committed documents generated from the code (OpenAPI, AsyncAPI): write them, or check that
the committed file is still what the code generates (``make check`` fails on drift)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_or_check(document: Path, text: str, *, command: str, check: bool) -> int:
    """Exit status for a ``python -m …`` entry point: 1 when ``check`` finds drift."""
    shown = document.relative_to(ROOT)
    if check:
        current = document.read_text(encoding="utf-8") if document.exists() else ""
        if current != text:
            print(f"{shown} is out of date: run `{command}` and commit the result")
            return 1
        print(f"{shown} is up to date")
        return 0
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0
