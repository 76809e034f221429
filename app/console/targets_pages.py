"""Forward targets: health, enable and disable, and a new secret shown once."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from app.console.actions import act
from app.console.context import services
from app.console.listings import target_board
from app.delivery.targets import rotate_secret, update_target

bp = Blueprint("targets", __name__, url_prefix="/targets")
DISABLED_HERE = "Disabled in the console."


@bp.get("")
def index():
    return render_template("console/targets.html", targets=target_board(services()))


@bp.post("/<webhook_id>/enable")
def enable(webhook_id: str):
    done = "Enabled: its held deliveries are released, oldest first."
    change = {"enabled": True}
    return act(lambda: update_target(services(), webhook_id, change), done, _back())


@bp.post("/<webhook_id>/disable")
def disable(webhook_id: str):
    done = "Disabled: its deliveries are held until it is enabled again."
    change = {"enabled": False, "disabled_reason": DISABLED_HERE}
    return act(lambda: update_target(services(), webhook_id, change), done, _back())


@bp.post("/<webhook_id>/rotate-secret")
def rotate(webhook_id: str):
    """The answer shows the new secret, this once: no redirect, and no cache keeps the page."""
    return render_template("console/secret.html", target=rotate_secret(services(), webhook_id))


def _back() -> str:
    return url_for("console.targets.index")
