"""The console's guards without a browser: sign-in and its cookie, CSRF, the headers, the
sandbox's open console, and no token or secret on any page."""

from __future__ import annotations

import re
import time

import pytest

from app.console import sessions
from app.runs.tokens import callback_token
from tests.console.helpers import console_cookie, csrf_of, post_form, sign_in
from tests.integration.helpers import callback_url, run_row, trigger
from tests.support.stack import API_KEY, RELAY_SECRET

PAGES = (
    "/console/",
    "/console/runs",
    "/console/deliveries",
    "/console/targets",
    "/console/accounts",
    "/console/watches",
)


@pytest.fixture
def database_url(tmp_path):
    """The guards do not depend on the database; the overview's SQL has its own tests."""
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def console(make_app):
    """A test client of a live-mode relay without the API's Authorization header."""
    client, _ = make_app()
    client.environ_base.pop("HTTP_AUTHORIZATION")
    return client


def set_cookie_header(answer) -> str:
    return next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("relay_console="))


def test_every_page_asks_for_a_sign_in_first(console):
    for page in PAGES:
        answer = console.get(page)
        assert answer.status_code == 303
        assert answer.headers["Location"] == f"/console/sign-in?next={page}"
    # A bearer key does not open the console: it signs in with a session, never per request.
    assert (
        console.get("/console/", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 303
    )


def test_signing_in_opens_a_strict_http_only_session_that_expires(console):
    answer = sign_in(console, next_path="/console/targets")
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/targets"
    cookie = set_cookie_header(answer)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Expires=" in cookie and "Secure" not in cookie  # plain http here
    assert API_KEY not in cookie
    for page in PAGES:
        assert console.get(page).status_code == 200, page


def test_the_cookie_is_secure_under_https(make_app, console):
    answer = sign_in_over(console, "https://localhost")
    assert "Secure" in set_cookie_header(answer)
    behind_tls, _ = make_app({"PUBLIC_BASE_URL": "https://relay.example.com"})
    assert "Secure" in set_cookie_header(sign_in(behind_tls))


def sign_in_over(client, base_url: str):
    form = client.get("/console/sign-in", base_url=base_url)
    data = {"api_key": API_KEY, "csrf_token": csrf_of(form.text)}
    return client.post("/console/sign-in", data=data, base_url=base_url)


def test_a_wrong_key_is_refused_and_a_guesser_is_slowed(console):
    answer = sign_in(console, key="not-the-key")
    assert answer.status_code == 401 and "Unknown API key" in answer.text
    assert console.get("/console/").status_code == 303
    for _ in range(25):
        answer = sign_in(console, key="still-wrong")
    assert answer.status_code == 429 and "Retry-After" in answer.headers
    # The API and the console share one budget of wrong keys per address.
    wrong = {"Authorization": "Bearer still-wrong"}
    assert console.get("/v1/runs", headers=wrong).status_code == 429


def test_a_post_without_the_csrf_token_is_refused(console):
    sign_in(console)
    for fields in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}):
        answer = console.post("/console/sign-out", data=fields)
        assert answer.status_code == 403, fields
        assert "CSRF" in answer.text and answer.mimetype == "text/html"
    assert console.get("/console/").status_code == 200  # still signed in
    # Nor is the sign-in itself taken without one (login CSRF).
    fresh = console.application.test_client()
    assert fresh.post("/console/sign-in", data={"api_key": API_KEY}).status_code == 403


def test_a_token_from_another_session_is_refused(console, make_app):
    other, _ = make_app()
    sign_in(other)
    foreign = csrf_of(other.get("/console/").text)
    sign_in(console)
    assert console.post("/console/sign-out", data={"csrf_token": foreign}).status_code == 403


def test_a_cookie_made_under_another_relay_secret_is_refused(console, make_app):
    forger, _ = make_app({"RELAY_SECRET": "another-relay-secret-0123456789"})
    sign_in(forger)
    forged = console_cookie(forger)
    assert forged and forger.get("/console/").status_code == 200
    console.set_cookie("relay_console", forged, path="/console")
    answer = console.get("/console/runs")
    assert answer.status_code == 303 and "/console/sign-in" in answer.headers["Location"]


def test_a_session_ends_at_its_expiry_and_with_its_key(console, make_app, monkeypatch):
    sign_in(console)
    cookie = console_cookie(console)
    later = time.time() + sessions.DEFAULT_LIFETIME_SECONDS + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert console.get("/console/").status_code == 303
    monkeypatch.undo()
    assert console.get("/console/").status_code == 200

    # The same secret, but the key it was opened with is no longer configured.
    rotated, _ = make_app({"RELAY_API_KEYS": "another-key-0123456789"})
    rotated.set_cookie("relay_console", cookie, path="/console")
    assert rotated.get("/console/").status_code == 303


def test_sign_in_sends_back_only_inside_the_console(console):
    for target in ("https://evil.example/", "//evil.example/", "/v1/runs", "/console\\@evil"):
        answer = sign_in(console, next_path=target)
        assert answer.headers["Location"] == "/console/", target
        console.post(
            "/console/sign-out", data={"csrf_token": csrf_of(console.get("/console/").text)}
        )


def test_every_console_answer_carries_the_security_headers(console):
    answers = [console.get("/console/sign-in"), console.get("/console/")]
    sign_in(console)
    page = console.get("/console/")
    css = re.search(r'href="(/console/static/console\.css\?v=\w+)"', page.text).group(1)
    answers += [
        page,
        console.get(css),
        console.get("/console/runs/no-such-run"),
        console.post("/console/sign-out"),
    ]
    assert [a.status_code for a in answers] == [200, 303, 200, 200, 404, 403]
    for answer in answers:
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answers[2].headers["Cache-Control"] == "no-store"
    assert "immutable" in answers[3].headers["Cache-Control"]


def test_no_page_has_inline_script_style_or_handlers(console):
    sign_in(console)
    for page in PAGES:
        html = console.get(page).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), page
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), page


def test_in_sandbox_mode_without_keys_the_console_is_open_with_a_banner(make_app):
    open_console, _ = make_app(dropped=("ZAPIER_ACCESS_TOKEN", "RELAY_API_KEYS"))
    answer = open_console.get("/console/")
    assert answer.status_code == 200
    assert re.search(r'class="banner"[^>]*>\s*<strong>Sandbox</strong>', answer.text)
    assert "Sign out" not in answer.text
    # Still no POST without a token.
    assert open_console.post("/console/runs/x/redeliver").status_code == 403


def test_sandbox_mode_with_keys_still_asks_for_a_sign_in(make_app):
    keyed, _ = make_app(dropped=("ZAPIER_ACCESS_TOKEN",))
    keyed.environ_base.pop("HTTP_AUTHORIZATION")
    assert keyed.get("/console/").status_code == 303
    sign_in(keyed)
    assert "<strong>Sandbox</strong>" in keyed.get("/console/").text


def test_no_page_shows_a_callback_token(make_app, console, sandbox):
    api, services = make_app()
    run_id = trigger(api)
    body = {
        "id": run_row(services, run_id)["upstream_run_id"],
        "errors": [],
        "echo": callback_url(run_id),
    }
    assert api.post(callback_url(run_id), json=body).status_code == 200
    token = callback_token(RELAY_SECRET, run_id)
    sign_in(console)
    run_page = console.get(f"/console/runs/{run_id}")
    assert run_page.status_code == 200 and run_id in run_page.text
    assert "/callbacks/" + run_id + "/[redacted]" in run_page.text  # upstream echoed it
    for html in [run_page.text] + [console.get(page).text for page in PAGES]:
        assert token not in html


def test_a_rotated_secret_is_shown_once_and_never_again(make_app, console):
    api, _ = make_app()
    made = api.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}).get_json()["data"]
    sign_in(console)
    shown = post_form(console, f"/console/targets/{made['id']}/rotate-secret", "/console/targets")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', shown.text).group(1)
    assert secret != made["secret"]
    for page in PAGES:
        html = console.get(page).text
        assert secret not in html and secret[:16] not in html and made["secret"][:16] not in html


def test_a_credential_in_a_target_url_is_not_shown(make_app, console):
    api, _ = make_app()
    url = "http://127.0.0.1:9/hook?token=query-secret-value"
    assert api.post("/v1/webhooks", json={"url": url}).status_code == 201
    sign_in(console)
    assert "http://127.0.0.1:9/hook?[redacted]" in console.get("/console/targets").text
    for page in PAGES:
        assert "query-secret-value" not in console.get(page).text
