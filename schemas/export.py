"""JSON Schema files generated from the models; committed under ``schemas/jsonschema/``.

``python -m schemas.export`` rewrites them; ``--check`` fails when they drifted from the
models (CI runs it through the unit tests).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.v1 import EVENT_MODELS

SCHEMA_DIR = Path(__file__).resolve().parent / "jsonschema"


def json_schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in EVENT_MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        schemas[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:seinpost:schema:{name}",
            **schema,
        }
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def drifted(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names whose committed file differs from what the models generate (or is missing)."""
    stale = []
    for name, schema in json_schemas().items():
        path = directory / f"{name}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != render(schema):
            stale.append(name)
    return stale


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, schema in json_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        stale = drifted()
        if stale:
            print(f"JSON Schemas out of date: {', '.join(stale)}; run python -m schemas.export")
            return 1
        print("JSON Schemas match the models")
        return 0
    for path in write():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
