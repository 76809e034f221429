"""gunicorn's access log without secrets: callback tokens and Authorization headers redacted."""

from __future__ import annotations

import re
import traceback

from gunicorn.glogging import Logger

CALLBACK_TOKEN = re.compile(r"(/callbacks/[^/\s?]+/)[^/\s?]+")
REDACTED = "[redacted]"


def redact_path(text: str | None) -> str | None:
    return CALLBACK_TOKEN.sub(rf"\g<1>{REDACTED}", text) if text else text


def access_fields(atoms: dict) -> dict:
    """The request as separate fields, for JSON lines (the text format shows only the message)."""
    status = str(atoms.get("s") or "")
    return {
        "remote_addr": atoms.get("h"),
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "status": int(status) if status.isdigit() else status,
        "duration_ms": atoms.get("M"),
        "response_bytes": atoms.get("B"),
        "user_agent": atoms.get("a"),
    }


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

    def access(self, resp, req, environ, request_time):
        """gunicorn's own access(), plus the request's fields as record extras."""
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        try:
            self.access_log.info(
                self.cfg.access_log_format,
                self.atoms_wrapper_class(atoms),
                extra=access_fields(atoms),
            )
        except Exception:
            self.error(traceback.format_exc())
