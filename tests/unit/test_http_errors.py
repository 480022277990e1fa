"""The answers the framework gives by itself come in our error format too, and the body limit
answers 413 before a body is read (found by tests/integration/test_bad_input.py)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from services.common.access import install_access_errors
from services.common.asgi import BodySizeLimit


class Note(BaseModel):
    note: str


def _app() -> FastAPI:
    app = FastAPI()
    install_access_errors(app)
    app.add_middleware(BodySizeLimit, max_bytes=1024)

    @app.post("/notes")
    async def add(note: Note) -> dict[str, str]:
        return {"note": note.note}

    return app


def test_framework_errors_carry_a_code_and_a_dutch_message() -> None:
    client = TestClient(_app())
    cases = {
        ("GET", "/nergens"): (404, "not_found"),
        ("GET", "/notes"): (405, "method_not_allowed"),
    }
    for (method, path), (status, code) in cases.items():
        response = client.request(method, path)
        assert response.status_code == status
        assert response.json()["error"] == code
        assert response.json()["message"] not in ("Not Found", "Method Not Allowed")
    assert "POST" in client.get("/notes").headers["allow"]
    broken = client.post(
        "/notes", content=b'{"note": "caf\xc3\x28"}', headers={"content-type": "application/json"}
    )
    assert broken.status_code in (400, 422)
    assert broken.json()["error"] in ("body_unreadable", "validation_failed")
    assert "detail" not in broken.json()


def test_a_body_over_the_limit_is_413_in_our_format() -> None:
    client = TestClient(_app())
    response = client.post("/notes", json={"note": "x" * 2000})
    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "message": "Het verzoek is te groot: hoogstens 1024 bytes.",
        "problems": [],
    }
    assert client.post("/notes", json={"note": "kort"}).json() == {"note": "kort"}
