"""The phone form in a real browser (Debian's headless Chromium, driven by Playwright) against
real intake, Kafka and PostgreSQL: enrol by link, send, send offline, come back online, and
every signal is on the submitted topic exactly once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from tests.integration.enrolled import (
    ORGANISATION,
    EnrolledIntake,
    read_submitted,
)

CHROMIUM = Path("/usr/bin/chromium")
# Never a downloaded browser: Debian's chromium, quiet (no updates, sync or field trials).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0)
  .filter((el) => ![...el.labels].some((label) => label.textContent.trim().length > 0)
                  && !el.getAttribute('aria-label'))
  .map((el) => el.id || el.name || el.outerHTML)"""


async def fill_signal(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.select_option("#municipality", "Gent")
    await page.select_option("#neighbourhood", "Brugse Poort")
    await page.select_option("#vindplaats", "schoolpoort")
    await page.select_option("#reporter_role", "brugfiguur")
    await page.check("#knowledge_type-professionele_kennis")
    await page.check("#age_bands-6-11")
    await page.fill("#families_count", "2")


async def submit_by_keyboard(page: Page) -> None:
    await page.focus("#versturen")
    await page.keyboard.press("Enter")


async def sent_ids(page: Page) -> list[str]:
    ids = await page.eval_on_selector_all(
        "#lijst li[data-state=sent]", "items => items.map(i => i.dataset.signalId)"
    )
    return [str(i) for i in ids]


async def test_the_phone_form_sends_online_and_offline_and_each_signal_arrives_once(
    enrolled_intake: EnrolledIntake, browser: Browser
) -> None:
    intake = enrolled_intake
    context = await browser.new_context(locale="nl-BE", service_workers="allow")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Enrolment: the link's token is kept on the device and leaves the address bar.
    await page.goto(f"{intake.url}/formulier#token={intake.token}")
    await expect(page.locator("#signaal")).to_be_visible()
    assert "token" not in page.url
    assert page.url.endswith("/formulier/")
    assert await page.evaluate("localStorage.getItem('seinpost.token')") == intake.token
    assert await page.evaluate(UNLABELLED) == [], "every field has a label"
    # The choices come from intake's configuration, limited to the token's area.
    assert await page.locator("#municipality option[value]:not([value=''])").count() == 1
    assert await page.locator("#age_bands input[type=checkbox]").count() >= 5

    # Errors are shown next to the field, in Dutch, and the field is marked invalid.
    await page.fill("#text", "kort")
    await page.click("#versturen")
    await expect(page.locator("#text-fout")).to_contain_text("minstens 10 tekens")
    assert await page.get_attribute("#text", "aria-invalid") == "true"

    # 1. Online, with a phone number: warned before, told what was removed after.
    await fill_signal(
        page, "Mama van Ayoub (0478 12 34 56) kan de schoolrekening voor de uitstap niet betalen."
    )
    await expect(page.locator("#privacy")).to_contain_text("1 telefoonnummer")
    await expect(page.locator("#privacy")).to_contain_text("worden verwijderd")
    await submit_by_keyboard(page)
    await expect(page.locator("#resultaat")).to_contain_text("Verstuurd")
    await expect(page.locator("#lijst li[data-state=sent]")).to_have_count(1)
    await expect(page.locator("#lijst li[data-state=sent]")).to_contain_text("telefoonnummer")
    [first] = await sent_ids(page)

    # The service worker controls the page before the network goes away.
    await page.wait_for_function("navigator.serviceWorker.controller !== null")

    # 2. Offline: kept on the device, shown as waiting, still there after a reload.
    await context.set_offline(True)
    await fill_signal(page, "Geen laptop thuis: de kinderen kunnen hun taken niet maken.")
    await submit_by_keyboard(page)
    await expect(page.locator("#resultaat")).to_contain_text("wacht op verbinding")
    waiting = page.locator("#lijst li[data-state=waiting]")
    await expect(waiting).to_have_count(1)
    await expect(waiting).to_contain_text("Wacht op verbinding")
    second = str(await waiting.get_attribute("data-signal-id"))
    await page.reload()  # the shell comes from the service worker's cache
    await expect(page.locator("#signaal")).to_be_visible()
    await expect(page.locator(f"#lijst li[data-signal-id='{second}']")).to_have_attribute(
        "data-state", "waiting"
    )

    # 3. Back online: sent by itself, with the same id.
    await context.set_offline(False)
    await expect(page.locator(f"#lijst li[data-signal-id='{second}']")).to_have_attribute(
        "data-state", "sent", timeout=30_000
    )

    # 4. A lost answer: intake accepts, the phone never hears it and sends again later.
    lost: list[str] = []

    async def lose_the_answer(route: Route) -> None:
        if not lost:
            response = await route.fetch()
            lost.append(str(response.status))
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route("**/v1/signals", lose_the_answer)
    await fill_signal(page, "Wachtlijst kinderopvang van negen maanden: mama kan niet werken.")
    await submit_by_keyboard(page)
    await expect(page.locator("#lijst li[data-state=sent]")).to_have_count(3, timeout=30_000)
    assert lost == ["202"], "the first sending reached intake; its answer was lost"

    ids = await sent_ids(page)
    assert set(ids) >= {first, second}
    events = await read_submitted(intake.kafka)
    counted = Counter(event["data"]["signal_id"] for event in events)
    assert set(counted) == set(ids)
    assert all(count == 1 for count in counted.values()), counted
    by_id = {event["data"]["signal_id"]: event["data"] for event in events}
    assert "0478" not in by_id[first]["text"], "the scrubber removed the phone number"
    assert by_id[first]["organisation"] == ORGANISATION, "taken from the device's token"
    assert all(uuid.UUID(signal_id).version == 4 for signal_id in ids)
    assert errors == []
    await context.close()


async def test_without_a_token_the_form_explains_how_to_enrol(
    enrolled_intake: EnrolledIntake, browser: Browser
) -> None:
    context = await browser.new_context(locale="nl-BE")
    page = await context.new_page()
    await page.goto(f"{enrolled_intake.url}/")
    await expect(page.locator("#inschrijven")).to_be_visible()
    await expect(page.locator("#inschrijven")).to_contain_text("inschrijvingslink")
    await expect(page.locator("#signaal")).to_be_hidden()
    # A revoked or mistyped token: told so, and still nothing to fill in.
    await page.goto(f"{enrolled_intake.url}/formulier#token=spt_{'x' * 43}")
    await expect(page.locator("#inschrijven")).to_be_visible()
    await expect(page.locator("#inschrijven-reden")).not_to_be_empty()
    await context.close()
