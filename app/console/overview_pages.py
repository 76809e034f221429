"""The console's front page: the last 24 h at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.console.context import services
from app.console.overview import overview

bp = Blueprint("overview", __name__)


@bp.get("/")
def show():
    return render_template("console/overview.html", view=overview(services()))
