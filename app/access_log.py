"""gunicorn's access log without secrets: callback tokens and Authorization headers redacted."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

CALLBACK_TOKEN = re.compile(r"(/callbacks/[^/\s?]+/)[^/\s?]+")
REDACTED = "[redacted]"


def redact_path(text: str | None) -> str | None:
    return CALLBACK_TOKEN.sub(rf"\g<1>{REDACTED}", text) if text else text


class RedactingLogger(Logger):
    """The default access log, with each run's callback token and any bearer key removed."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact_path(atoms.get("r"))
        atoms["U"] = redact_path(atoms.get("U"))
        for key in ("{authorization}i", "{zapier-callback-signature}i"):
            if key in atoms:
                atoms[key] = REDACTED
        return atoms
