"""Logging to stdout, configured once per process (web worker, worker, CLI)."""

import logging
import os
import sys


def configure_logging() -> None:
    root = logging.getLogger()
    if root.handlers:  # the host (pytest, gunicorn hooks) already configured it
        return
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(process)d %(name)s %(message)s",
        stream=sys.stdout,
    )
