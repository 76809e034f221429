"""Zapier accounts: state, budget, and a new token put in (never shown, before or after)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.accounts.service import update_account
from app.console.actions import act
from app.console.context import services
from app.console.listings import account_board
from app.schemas.accounts import AccountUpdate

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
TOKEN_CHANGE = AccountUpdate(only=("token",))


@bp.get("")
def index():
    return render_template("console/accounts.html", accounts=account_board(services()))


@bp.post("/<account_id>/token")
def replace_token(account_id: str):
    back = url_for("console.accounts.index")
    try:
        change = TOKEN_CHANGE.load({"token": request.form.get("token", "")})
    except ValidationError as err:
        # The schema's message names the rule, never the value sent.
        flash(f"Token not changed: {' '.join(err.messages['token'])}", "error")
        return redirect(back, code=303)
    done = f"The token of {account_id} is replaced; the account is active again."
    return act(lambda: update_account(services(), account_id, change), done, back)
