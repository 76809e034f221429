"""Every console page in a real browser against a real relay: it reads at 1280 and 390 px,
with labels, by keyboard and without JavaScript; its buttons work; its guards hold; and its
weight is measured. Screenshots go to docs/console/ when RELAY_CONSOLE_DOCS says so."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest

from app.config.settings import Settings
from app.console import sessions
from app.runs.tokens import callback_token
from tests.console.conftest import sign_in
from tests.console.weights import measure, weights_table
from tests.support.receiver import Receiver
from tests.support.stack import API_KEY, RELAY_SECRET

pytestmark = pytest.mark.e2e
NARROW, WIDE = 390, 1280
RUNS = 4


@pytest.fixture(scope="module")
def seeded(stack, sandbox_server):
    """Runs settled by callback and by poll, one failed upstream; a failing target, a
    disabled one, an account and a Zap watch: something on every page."""
    failing = Receiver(status=500).start()
    held = Receiver().start()
    try:
        targets = {}
        for name, box in (("failing", failing), ("held", held)):
            made = stack.api("POST", "/v1/webhooks", json={"url": box.url})
            assert made.status_code == 201, made.text
            targets[name] = made.json()["data"]["id"]
            box.use_secret(made.json()["data"]["secret"])
        stack.api("PATCH", f"/v1/webhooks/{targets['held']}", json={"enabled": False})
        account = {"id": "acme", "token": "acme-zapier-token-0123456789"}
        assert stack.api("POST", "/v1/accounts", json=account).status_code == 201
        watch = stack.api("POST", "/v1/zap-watches", json={"from_date": "2020-01-01T00:00:00Z"})
        assert watch.status_code == 201, watch.text

        run_ids = [stack.relay.trigger() for _ in range(RUNS)]
        sandbox_server.knobs(callback_drop=1.0)  # these two are settled by polls
        run_ids += [stack.relay.trigger() for _ in range(2)]
        sandbox_server.knobs(callback_drop=0.0, error_rate=1.0)
        run_ids.append(stack.relay.trigger())
        sandbox_server.knobs(error_rate=0.0)

        def settled() -> bool:
            page = stack.api("GET", "/v1/deliveries", params={"state": "failed", "limit": 200})
            return len(page.json()["data"]) >= len(run_ids)

        wait_until(settled, 60)
        yield {"runs": run_ids, "targets": targets, "watch": watch.json()["data"]["id"]}
    finally:
        failing.close()
        held.close()


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the stack did not get there in time"
        time.sleep(0.3)


def pages_of(stack, seeded) -> dict[str, str]:
    failed = stack.api("GET", "/v1/deliveries", params={"state": "failed", "limit": 1})
    return {
        "overview": "/console/",
        "runs": "/console/runs",
        "run": f"/console/runs/{seeded['runs'][-2]}",
        "deliveries": "/console/deliveries",
        "delivery": f"/console/deliveries/{failed.json()['data'][0]['id']}",
        "targets": "/console/targets",
        "accounts": "/console/accounts",
        "watches": "/console/watches",
        "watch": f"/console/watches/{seeded['watch']}",
    }


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null && e.labels.length === 0)
  .map(e => e.name)"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_every_page_holds_at_desktop_and_phone_width(page, stack, seeded, docs_dir):
    """No sideways scrolling of the page (wide tables scroll inside their own box), every
    field labelled, no script error and no CSP violation; a screenshot of each."""
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages_of(stack, seeded).items():
            answer = page.goto(path)
            assert answer.status == 200, path
            assert page.get_by_role("heading", level=1).is_visible()
            assert page.evaluate(OVERFLOW) <= 0, f"{path} is wider than {width} px"
            assert page.evaluate(UNLABELLED) == [], path
            if width == WIDE:
                page.screenshot(path=docs_dir / f"{name}.png", full_page=True)
            elif name in ("overview", "run", "deliveries"):  # a phone's first screen
                page.screenshot(path=docs_dir / f"{name}-{width}.png")
    assert page.problems == []


def test_the_sign_in_page(browser_context, docs_dir):
    page = browser_context.new_page()
    page.goto("/console/runs")
    assert urlparse(page.url).path == "/console/sign-in"
    assert page.evaluate("document.activeElement.id") == "api_key"  # ready to type
    page.screenshot(path=docs_dir / "sign-in.png")
    page.get_by_label(re.compile("API key")).fill("a-wrong-key")
    page.keyboard.press("Enter")
    assert page.get_by_role("alert").inner_text() == "Unknown API key."
    assert urlparse(page.url).path == "/console/sign-in"


def test_the_keyboard_reaches_everything_in_order(page, stack, seeded):
    page.goto("/console/runs")
    focused = []
    for _ in range(9):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", f"no focus ring on {focused[-1]!r}"
    assert focused == [
        "Skip to content",
        "Callback Relay",
        "Overview",
        "Runs",
        "Deliveries",
        "Targets",
        "Accounts",
        "Zap watches",
        "Sign out",
    ]
    # Skip to the content, then search a run by its id without touching the mouse.
    page.goto("/console/runs")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "id"
    page.keyboard.type(seeded["runs"][0])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?id="))
    rows = page.get_by_role("region", name="Runs found").get_by_role("row")
    assert rows.count() == 2 and seeded["runs"][0] in rows.nth(1).inner_text()


def test_pages_read_without_javascript(chromium, stack, seeded):
    context = chromium.new_context(base_url=stack.base, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page)  # a plain form post
        assert page.get_by_text("Callback vs poll").is_visible()
        assert page.locator("svg.chart").count() >= 3
        assert not page.get_by_label(re.compile("Refresh every")).is_visible()
        page.goto(f"/console/runs/{seeded['runs'][0]}")
        assert page.get_by_role("heading", name="Timeline").is_visible()
        assert page.get_by_label("Result JSON").is_visible()
    finally:
        context.close()


def test_filters_find_runs_by_state_and_account(page, seeded):
    page.goto("/console/runs")
    page.get_by_label("State").select_option("failed")
    page.get_by_role("button", name="Find").click()
    rows = page.get_by_role("region", name="Runs found").get_by_role("row")
    assert seeded["runs"][-1] in rows.nth(1).inner_text()
    assert all("failed" in text for text in rows.all_inner_texts()[1:])
    page.get_by_label("Account").fill("acme")
    page.get_by_role("button", name="Find").click()
    assert "No run matches." in rows.nth(1).inner_text()


def test_a_target_is_disabled_and_enabled_with_a_click(page, stack, seeded):
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/targets")
    card = page.locator(f"#target-{seeded['targets']['failing']}")
    card.get_by_role("button", name="Disable").click()
    assert "Disabled:" in page.get_by_role("status").inner_text()
    assert card.locator(".state-disabled").first.is_visible()
    card.get_by_role("button", name="Enable").click()
    assert "Enabled:" in page.get_by_role("status").inner_text()
    assert card.locator(".state-enabled").first.is_visible()


def test_a_new_secret_is_shown_once(page, stack, seeded):
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/targets")
    card = page.locator(f"#target-{seeded['targets']['failing']}")
    card.get_by_role("button", name="Rotate secret").click()
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    assert page.get_by_role("button", name="Copy").is_visible()  # enhanced by the script
    for path in pages_of(stack, seeded).values():
        page.goto(path)
        assert secret not in page.content()
    page.go_back()  # the page of the secret is not kept by the cache either
    assert secret not in page.content()


def test_an_account_token_is_put_in_and_never_shown(page, stack, seeded):
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/accounts")
    before = stack.api("GET", "/v1/accounts/acme").json()["data"]["token_fingerprint"]
    new_token = "acme-rotated-token-9876543210"
    page.get_by_label("New token for acme").fill(new_token)
    page.get_by_label("New token for acme").press("Enter")
    assert "is replaced" in page.get_by_role("status").inner_text()
    after = stack.api("GET", "/v1/accounts/acme").json()["data"]["token_fingerprint"]
    assert after != before and after in page.content()
    assert new_token not in page.content() and "acme-zapier-token" not in page.content()


def test_recovery_by_time_range_queues_a_targets_failed_deliveries(page, stack, seeded):
    page.goto("/console/deliveries")
    form = page.get_by_role("form", name=re.compile("Recover"))
    form.get_by_label("Target").select_option(seeded["targets"]["failing"])
    form.get_by_label(re.compile("Created from")).fill("2020-01-01T00:00")
    form.get_by_role("button", name="Queue them again").click()
    assert re.search(r"\d+ failed deliveries queued again", page.get_by_role("status").inner_text())


def test_a_post_without_a_csrf_token_is_refused(page, stack, seeded):
    target = seeded["targets"]["failing"]
    answer = page.request.post(f"/console/targets/{target}/disable", form={})
    assert answer.status == 403 and "CSRF" in answer.text()
    # A real form with its token taken out, sent by a click: the browser shows the refusal.
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/console/targets")
    card = page.locator(f"#target-{target}")
    card.locator("input[name=csrf_token]").evaluate_all(
        "(inputs) => inputs.forEach(i => i.remove())"
    )
    card.get_by_role("button", name="Disable").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("403")
    state = stack.api("GET", f"/v1/webhooks/{target}").json()["data"]["health"]["state"]
    assert state != "disabled"


def forged_cookie(relay_secret: str) -> str:
    """A session cookie as the console makes it, signed with `relay_secret`'s key."""
    from flask import Flask

    settings = Settings(relay_secret=relay_secret, relay_api_keys=(API_KEY,))
    app = Flask("forger")
    sessions.configure(app, settings)
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps(
        {
            sessions.SIGNED_IN: sessions.key_fingerprint(settings, API_KEY),
            sessions.EXPIRES: int(time.time()) + 3600,
            sessions.CSRF: "forged",
            "_permanent": True,
        }
    )


@pytest.mark.parametrize(
    ("secret", "opens"), [("another-relay-secret-0123456789", False), (RELAY_SECRET, True)]
)
def test_a_cookie_from_another_relay_secret_is_refused(browser_context, stack, secret, opens):
    """The same cookie signed with the relay's own secret opens the console: the refusal is
    the secret's doing, nothing else."""
    cookie = {"name": "relay_console", "value": forged_cookie(secret), "url": stack.base}
    browser_context.add_cookies([{**cookie, "url": f"{stack.base}/console"}])
    page = browser_context.new_page()
    page.goto("/console/")
    signed_out = urlparse(page.url).path == "/console/sign-in"
    assert signed_out is not opens


def test_no_page_and_no_url_carries_a_callback_token(page, stack, seeded):
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    tokens = {callback_token(RELAY_SECRET, run_id) for run_id in seeded["runs"]}
    pages = list(pages_of(stack, seeded).values())
    pages += [f"/console/runs/{run_id}" for run_id in seeded["runs"]]
    for path in pages:
        page.goto(path)
        html = page.content()
        for link in page.locator("a[href]").evaluate_all("(links) => links.map(a => a.href)"):
            urls.append(link)
        assert not any(token in html for token in tokens), path
    assert urls and not any(token in url for url in urls for token in tokens)


def test_page_weights(chromium, stack, seeded, docs_dir):
    """KB and requests per page with an empty cache, and requests again with a warm one."""
    cookie_page = chromium.new_context(base_url=stack.base)
    try:
        sign_in(cookie_page.new_page())
        cookies = cookie_page.cookies()
    finally:
        cookie_page.close()
    weights = measure(chromium, stack.base, cookies, pages_of(stack, seeded))
    (docs_dir / "page-weights.md").write_text(weights_table(weights))
    for name, weight in weights.items():
        assert weight["cold_requests"] <= 3, name  # the page, its stylesheet, its script
        assert weight["warm_requests"] == 1, name  # the assets are cached for good
        assert weight["cold_bytes"] < 150_000, name
