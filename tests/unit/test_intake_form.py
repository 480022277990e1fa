"""The phone form as intake serves it: routes, headers, the shell the service worker caches,
labels on every field, nothing from another origin and no choices written into the code."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from schemas.vocabulary import FAMILY_SITUATIONS, REPORTER_ROLES, VINDPLAATSEN
from services.common.settings import KafkaSettings
from services.intake.app import create_app
from services.intake.settings import IntakeSettings


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan: the form's routes need no Kafka.
    return TestClient(
        create_app(IntakeSettings(kafka=KafkaSettings(topic_namespace="unit."))),
        follow_redirects=False,
    )


class _Fields(HTMLParser):
    """Collects form controls, labels and every URL the page refers to."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.urls: list[str] = []
        self.options = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in {"input", "select", "textarea"}:
            self.controls.append(attributes)
        if tag == "label" and attributes.get("for"):
            self.label_for.add(str(attributes["for"]))
        if tag == "option":
            self.options += 1
        for name in ("src", "href", "action"):
            if attributes.get(name):
                self.urls.append(str(attributes[name]))


def _page(client: TestClient) -> _Fields:
    fields = _Fields()
    fields.feed(client.get("/formulier/").text)
    return fields


@pytest.mark.parametrize("path", ["/", "/formulier"])
def test_the_entry_points_lead_to_the_form_inside_the_service_workers_scope(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 308
    assert response.headers["location"] == "/formulier/"


def test_the_page_is_dutch_html_locked_to_its_own_origin(client: TestClient) -> None:
    response = client.get("/formulier/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy  # no inline script, no CDN
    assert response.headers["referrer-policy"] == "no-referrer"


def test_every_static_field_has_a_label(client: TestClient) -> None:
    page = _page(client)
    assert len(page.controls) >= 6, "the form's fields are in the page"
    for control in page.controls:
        assert control.get("id") in page.label_for, f"no <label for> for {control}"


def test_choices_come_from_configuration_not_from_the_code(client: TestClient) -> None:
    assert _page(client).options == 0
    script = client.get("/formulier/app.js").text
    for vocabulary in (VINDPLAATSEN, REPORTER_ROLES, FAMILY_SITUATIONS):
        for code in vocabulary:
            if code == "andere":
                continue
            assert f'"{code}"' not in script, f"{code} is written into app.js"
    assert "form-config" in script


def test_nothing_is_loaded_from_another_origin(client: TestClient) -> None:
    page = _page(client)
    assert page.urls, "the page refers to its assets"
    for url in page.urls:
        assert not re.match(r"^(?:[a-z]+:)?//", url), url
    for name in ("app.js", "sw.js", "style.css", "manifest.webmanifest"):
        text = client.get(f"/formulier/{name}").text
        assert not re.search(r"https?://", text), f"{name} refers to another origin"


def test_the_service_worker_caches_a_shell_that_is_served(client: TestClient) -> None:
    response = client.get("/formulier/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/formulier/"
    version = re.search(r'const VERSION = "([0-9a-f]+)"', response.text)
    assert version, "the shell version is filled in"
    shell = re.search(r"const SHELL = \[(.*?)\];", response.text)
    assert shell
    paths = re.findall(r'"([^"]+)"', shell.group(1))
    assert "./" in paths
    assert "app.js" in paths
    for path in paths:
        url = "/formulier/" + ("" if path == "./" else path)
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "name", ["index2.html", "..%2Fapp.py", "__init__.py", "static", "index.html"]
)
def test_only_the_listed_files_are_served(client: TestClient, name: str) -> None:
    assert client.get(f"/formulier/{name}").status_code == 404


def test_the_form_is_not_part_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(path.startswith("/formulier") or path == "/" for path in paths)
