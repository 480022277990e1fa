"""Write or check the committed OpenAPI document of intake (``docs/openapi/intake.json``).

``python -m services.intake.openapi`` writes it; ``--check`` fails (exit 1) when the routes or
models changed and the file was not regenerated — ``make check`` runs that.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services.common.documents import write_or_check

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi" / "intake.json"


def build() -> dict[str, Any]:
    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings

    # Defaults, not this machine's environment: the document describes the shipped service.
    return create_app(IntakeSettings.model_construct(**_defaults())).openapi()


def _defaults() -> dict[str, Any]:
    from services.intake.settings import IntakeSettings

    return {
        name: field.get_default(call_default_factory=True)
        for name, field in IntakeSettings.model_fields.items()
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return write_or_check(
        DOCUMENT, render(), command="python -m services.intake.openapi", check="--check" in args
    )


if __name__ == "__main__":
    raise SystemExit(main())
