"""Deliveries: failed, held and paused first; one delivery with its attempts; redelivery of
one; recovery of a target's failed deliveries in a time range."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.console.actions import act
from app.console.context import services
from app.console.filters import delivery_query, recovery_window
from app.console.listings import delivery_board
from app.delivery.listing import get_delivery, redeliver_delivery
from app.delivery.recovery import recover
from app.schemas.operator import DELIVERY_STATES

bp = Blueprint("deliveries", __name__, url_prefix="/deliveries")


@bp.get("")
def index():
    query, problems = delivery_query(request.args)
    return render_template(
        "console/deliveries.html",
        board=delivery_board(services(), query),
        args=request.args,
        problems=problems,
        states=DELIVERY_STATES,
    )


@bp.get("/<delivery_id>")
def show(delivery_id: str):
    return render_template("console/delivery.html", delivery=get_delivery(services(), delivery_id))


@bp.post("/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    back = url_for("console.deliveries.show", delivery_id=delivery_id)
    done = "Queued again, under the same webhook-id."
    return act(lambda: redeliver_delivery(services(), delivery_id), done, back)


@bp.post("/recover")
def recover_range():
    back = url_for("console.deliveries.index")
    since, until, problems = recovery_window(request.form)
    webhook_id = request.form.get("webhook_id", "")
    if problems or not webhook_id:
        for problem in problems or ["webhook_id: choose a target."]:
            flash(f"Recovery not started: {problem}", "error")
        return redirect(back, code=303)

    def told(done: dict) -> str:
        more = " More are left: recover again." if done["more"] else ""
        return f"{done['queued']} failed deliveries queued again.{more}"

    return act(lambda: recover(services(), webhook_id, since, until), told, back)
