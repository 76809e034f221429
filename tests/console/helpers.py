"""Shared steps of the console tests: read a page's CSRF token, sign a test client in."""

from __future__ import annotations

import re

from tests.support.stack import API_KEY

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client, key: str = API_KEY, next_path: str = ""):
    """A Flask test client signed in to the console; the sign-in answer is returned."""
    form = client.get("/console/sign-in")
    assert form.status_code == 200
    data = {"api_key": key, "csrf_token": csrf_of(form.text), "next": next_path}
    return client.post("/console/sign-in", data=data)


def console_cookie(client) -> str | None:
    cookie = client.get_cookie("relay_console", path="/console")
    return cookie.value if cookie else None


def post_form(client, path: str, page: str, **fields):
    """POST a console form the way the page would: with the CSRF token `page` carries."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **fields})
