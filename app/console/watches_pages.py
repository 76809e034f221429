"""Zap Runs watches: what each watches, how far its scan is, its last error."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.console.context import services
from app.zap_runs.watches import get_watch, list_watches

bp = Blueprint("watches", __name__, url_prefix="/watches")


@bp.get("")
def index():
    return render_template("console/watches.html", watches=list_watches(services()))


@bp.get("/<watch_id>")
def show(watch_id: str):
    return render_template("console/watch.html", watch=get_watch(services(), watch_id))
