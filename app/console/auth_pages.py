"""Sign in with an API key, sign out."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from app.console import guards, sessions
from app.console.context import key_throttle, settings

bp = Blueprint("auth", __name__)


@bp.get("/sign-in")
def sign_in_form():
    if guards.console_open() or sessions.signed_in(settings()):
        return redirect(guards.safe_next(request.args.get("next")), code=303)
    return render_template("console/sign_in.html", next=request.args.get("next", ""))


@bp.post("/sign-in")
def sign_in():
    address = request.remote_addr or "unknown"
    throttle = key_throttle()
    wait = throttle.wait_for(address)
    target = request.form.get("next", "")
    if wait:
        message = f"Too many wrong keys from this address; try again in {wait} s."
        page = render_template("console/sign_in.html", next=target, problem=message)
        return page, 429, {"Retry-After": str(wait)}
    fingerprint = sessions.matching_key(settings(), request.form.get("api_key", "").strip())
    if fingerprint is None:
        throttle.failed(address)
        page = render_template("console/sign_in.html", next=target, problem="Unknown API key.")
        return page, 401
    sessions.open_session(fingerprint, guards.lifetime())
    return redirect(guards.safe_next(target), code=303)


@bp.post("/sign-out")
def sign_out():
    sessions.close_session()
    return redirect(url_for("console.auth.sign_in_form"), code=303)
