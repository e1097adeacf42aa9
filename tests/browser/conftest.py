"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser).

Without /usr/bin/chromium these tests are skipped on a developer's machine, but
fail loudly where a browser is promised (SAMPHAN_REQUIRE_BROWSER=1, or CI=true).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; Django would then
# refuse the test's own ORM calls as "async-unsafe". They are not concurrent here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's package; SAMPHAN_CHROMIUM points elsewhere (another distribution's path).
CHROMIUM = Path(os.environ.get("SAMPHAN_CHROMIUM", "/usr/bin/chromium"))
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
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _browser_required() -> bool:
    return os.environ.get("SAMPHAN_REQUIRE_BROWSER") == "1" or os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        message = (
            f"{CHROMIUM} is missing: install Debian's browser with "
            "`apt-get update && apt-get install -y chromium` (never `playwright install`)"
        )
        if _browser_required():
            pytest.fail(f"browser tests are required here (SAMPHAN_REQUIRE_BROWSER=1 or CI=true) but {message}",
                        pytrace=False)
        pytest.skip(message)
    vendor = Path(settings.BASE_DIR) / "samphan" / "web" / "static" / "vendor" / "htmx.min.js"
    if not vendor.exists():
        pytest.fail(f"{vendor} is missing: run `make assets` (the UI serves its own htmx and fonts)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _new_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def page(browser):
    context, page = _new_page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context, page = _new_page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def sign_in(live_server):
    """Give a page a signed-in session for a user without going through the form."""

    def _sign_in(page, user) -> None:
        client = Client()
        client.force_login(user)
        page.context.add_cookies([{
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url,
        }])

    return _sign_in
