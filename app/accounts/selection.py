"""Which account a run or a watch uses: the one it names, else `default`, which must exist."""

from __future__ import annotations

from app.errors import InvalidInput, NotFound
from app.store import accounts_repo

DEFAULT_ACCOUNT = "default"


def virtual_default_origin(settings) -> str | None:
    """Where the unstored `default` account comes from: "env" (ZAPIER_ACCESS_TOKEN), "sandbox"
    (no token: the simulator accepts any), or None when there is none."""
    if settings.zapier_access_token:
        return "env"
    if settings.sandbox:
        return "sandbox"
    return None


def choose_account(conn, settings, requested: str | None, pointer: str) -> str:
    """The id of the account a new run or watch uses. An unknown one is a 404 at `pointer`, as
    an unknown webhook id in a watch is (a reference to a missing resource); none named when
    there is no `default` is a 400. Read in the caller's write transaction."""
    name = requested or DEFAULT_ACCOUNT
    if name == DEFAULT_ACCOUNT and virtual_default_origin(settings) is not None:
        return name
    if accounts_repo.get_account(conn, name) is not None:
        return name
    if name == DEFAULT_ACCOUNT:
        raise InvalidInput(
            "no_default_account",
            "There is no default account, and the request names no other: name one in "
            f"{_field(pointer)}, set ZAPIER_ACCESS_TOKEN, or create the account "
            '"default" with POST /v1/accounts.',
            pointer=pointer,
        )
    raise NotFound(
        "unknown_account",
        f"No account {name!r}: create it with POST /v1/accounts.",
        pointer=pointer,
    )


def _field(pointer: str) -> str:
    return pointer.strip("/").replace("/", ".")
