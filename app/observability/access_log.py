"""gunicorn's access log without secrets: callback tokens and Authorization headers redacted."""

from __future__ import annotations

import traceback

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# The app puts the path as its matched route shows it here (app/api/access_path.py).
ENVIRON_KEY = "relay.loggable_path"
CALLBACKS_PREFIX = "/callbacks/"


def redact_unmatched(path: str) -> str:
    """A callback path no route matched: nothing after the prefix is shown."""
    if path.startswith(CALLBACKS_PREFIX):
        return CALLBACKS_PREFIX + REDACTED
    return path


def loggable(environ: dict, raw_path: str | None) -> str | None:
    """The app's route-based path when it gave one, else the raw path, redacted if unknown."""
    shown = environ.get(ENVIRON_KEY)
    if shown is not None:
        return shown
    return redact_unmatched(raw_path) if raw_path else raw_path


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
        path = loggable(environ, atoms.get("U"))
        if atoms.get("U") and path != atoms["U"]:
            request_line = atoms.get("r") or ""
            method, _, rest = request_line.partition(" ")
            _target, _, version = rest.rpartition(" ")
            query = f"?{atoms['q']}" if atoms.get("q") else ""
            atoms["r"] = f"{method} {path}{query} {version}".strip()
            atoms["U"] = path
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
