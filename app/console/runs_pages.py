"""Runs: the filtered list, one run with its timeline and deliveries, and its redelivery."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from app.console.actions import act
from app.console.context import services
from app.console.filters import RUN_STATES, run_filters
from app.console.listings import run_page, search_runs
from app.runs.redelivery import redeliver

bp = Blueprint("runs", __name__, url_prefix="/runs")


@bp.get("")
def index():
    filters, problems = run_filters(request.args)
    page = search_runs(services(), filters, request.args.get("cursor"))
    return render_template(
        "console/runs.html", page=page, args=request.args, problems=problems, states=RUN_STATES
    )


@bp.get("/<run_id>")
def show(run_id: str):
    return render_template("console/run.html", run=run_page(services(), run_id))


@bp.post("/<run_id>/redeliver")
def redeliver_run(run_id: str):
    back = url_for("console.runs.show", run_id=run_id)
    return act(lambda: redeliver(services(), run_id), "Its deliveries are queued again.", back)
