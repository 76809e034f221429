"""Browser fixtures: Debian's Chromium driven by Playwright, and a real relay (gunicorn, a
worker, the sandbox) for it to look at. Without Chromium the browser tests skip, saying so."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from app.config.settings import SANDBOX_FORWARD_SECRET
from tests.support.receiver import Receiver
from tests.support.stack import API_KEY, Relay

# Debian's package; RELAY_CHROMIUM names another build of Chromium (never a downloaded one).
CHROMIUM = Path(os.environ.get("RELAY_CHROMIUM", "/usr/bin/chromium"))
# Quiet and self-contained: no updater, sync or first-run traffic of the browser's own.
LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# Short graces, polls and retries, so that runs settle and forwards fail within a test.
STACK_SETTINGS = {
    "WEB_CONCURRENCY": "2",
    "FORWARD_RETRY_SCHEDULE": "0,0",
    "FORWARD_BREAKER_FAILURES": "50",
    "CALLBACK_GRACE_SECONDS": "1",
    "POLL_MAX_INTERVAL_SECONDS": "1",
    "WORKER_LEASE_SECONDS": "3",
    "LOG_LEVEL": "warning",
    # A fixed test key (Fernet: 32 bytes, urlsafe base64), so that accounts can be stored.
    "RELAY_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=",
}
# Where screenshots and page weights go: docs/console/ when asked, else the test's tmp dir.
DOCS_DIR_VARIABLE = "RELAY_CONSOLE_DOCS"


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium): "
            "the console's browser tests need it"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    args = [*LAUNCH_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Stack:
    relay: Relay
    receiver: Receiver  # FORWARD_URLS' target, verifying every signature

    @property
    def base(self) -> str:
        return self.relay.base

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", headers=AUTH, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sandbox_server):
    """A live relay for a module's browser tests: one start for all of them."""
    sandbox_server.reset()
    receiver = Receiver(SANDBOX_FORWARD_SECRET).start()
    workdir = tmp_path_factory.mktemp("console-stack")
    db_url = f"sqlite:///{workdir / 'relay.db'}"
    relay = Relay.live(workdir, db_url, sandbox_server.base, receiver.url, **STACK_SETTINGS)
    try:
        relay.start()
        yield Stack(relay, receiver)
    finally:
        relay.stop()
        receiver.close()
        sandbox_server.reset()


@pytest.fixture
def browser_context(chromium, stack):
    """A fresh browser profile (no cookie, no cache) pointed at the stack."""
    context = chromium.new_context(base_url=stack.base, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    """A signed-in page; console errors and CSP violations are collected in `page.problems`."""
    page = browser_context.new_page()
    page.problems = watch_problems(page)
    sign_in(page)
    return page


def watch_problems(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    return problems


def sign_in(page, key: str = API_KEY, start: str = "/console/") -> None:
    """Through the form, as a person does: the key typed in, Enter to send."""
    page.goto(start)
    assert urlparse(page.url).path == "/console/sign-in"
    page.get_by_label(re.compile("API key")).fill(key)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlparse(url).path == start)


@pytest.fixture(scope="session")
def docs_dir(tmp_path_factory) -> Path:
    asked = os.environ.get(DOCS_DIR_VARIABLE)
    if asked:
        path = Path(asked)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("console-docs")
