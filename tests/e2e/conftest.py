"""Browser-test fixtures: demo people with history, and pages logged in by session cookie."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from portal.models import User

# Screenshots go to test-artifacts/screenshots/ (git-ignored), or to E2E_SCREENSHOTS_DIR
# (e.g. /tmp/shots) when set.
ARTIFACTS = Path(
    os.environ.get("E2E_SCREENSHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"


def make_person(username: str, first: str, last: str) -> User:
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=PASSWORD,
        first_name=first,
        last_name=last,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def people(transactional_db) -> dict[str, User]:
    alice = make_person("alice", "Alice", "Archer")
    bob = make_person("bob", "Bob", "Baker")
    alice.deposit("250.00", meta={"reference": "Welcome credit"})
    bob.deposit("80.00", meta={"reference": "Welcome credit"})
    alice.get_wallet("eur", name="Euro savings", unit="EUR")
    alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    alice.withdraw("20.00", confirmed=False, meta={"reference": "Payout to bank"})
    return {"alice": alice, "bob": bob}


@pytest.fixture
def login_as(page, live_server) -> Callable[[User], None]:
    """Log a user in by handing the browser a session cookie (login is not the subject)."""

    def login(user: User) -> None:
        page.context.add_cookies([session_cookie(user, live_server.url)])

    return login


def session_cookie(user: User, url: str) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


@pytest.fixture
def logged_in_page(browser, live_server) -> Iterator[Callable[..., object]]:
    """A separate browser context per user, optionally at a viewport size; all are closed
    before the live server stops."""
    contexts = []

    def open_page(user: User, viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP)
        contexts.append(context)
        context.add_cookies([session_cookie(user, live_server.url)])
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def assert_no_serious_a11y_violations(axe: Axe, page) -> None:
    results = axe.run(page)
    serious = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in {"serious", "critical"}
    ]
    assert not serious, results.generate_report()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret injects a <style>, which the CSP refuses (and logs).
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


# Elements sticking out of the viewport that no scrolling box clips: they widen the page.
OVERFLOWING = """() => [...document.querySelectorAll("body *")].filter((el) => {
  if (el.getBoundingClientRect().right <= window.innerWidth + 1) return false;
  for (let box = el.parentElement; box; box = box.parentElement) {
    if (getComputedStyle(box).overflowX !== "visible") return false;
  }
  return true;
}).slice(0, 5).map((el) => `${el.tagName}.${el.className}`)"""


def screenshots_at_both_widths(page, name: str) -> None:
    """``<name>-desktop.png`` (1280 wide) and ``<name>-phone.png`` (390 wide); the page
    is left at the desktop width. Wide content must scroll in its box, not the page."""
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    wide = page.evaluate(OVERFLOWING)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (name, wide)
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-desktop")


@pytest.fixture
def console_errors(page) -> list[str]:
    """Browser console errors (CSP refusals, htmx errors) seen during the test."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
