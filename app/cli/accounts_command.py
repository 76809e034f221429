"""`relay accounts reencrypt`: every stored token sealed again under the first encryption key."""

from __future__ import annotations

import argparse

from app.cli.startup import CONFIG_EXIT, database_problem, fail, settings_or_exit

ROTATION = """key rotation:
  1. put the new key first in RELAY_ENCRYPTION_KEYS, the old one after it, and restart
     the web and worker processes (new tokens are sealed with the new key);
  2. run `relay accounts reencrypt` (the old tokens move to the new key);
  3. drop the old key from RELAY_ENCRYPTION_KEYS and restart again.

exit codes: 0 done, 1 a token no key decrypts or the database failed, 2 a setting to fix"""


def add_accounts_commands(sub) -> None:
    """Add `accounts` and its subcommands to `relay`'s subparsers."""
    accounts = sub.add_parser("accounts", help="Zapier accounts' stored tokens")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    accounts_sub.add_parser(
        "reencrypt",
        help="re-encrypt every stored token with the first RELAY_ENCRYPTION_KEYS key",
        description="Re-encrypt every stored account token with the first key of "
        "RELAY_ENCRYPTION_KEYS, in one transaction. Reads DATABASE_URL and "
        "RELAY_ENCRYPTION_KEYS.",
        epilog=ROTATION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).set_defaults(func=cmd_reencrypt)


def cmd_reencrypt(_args) -> int:
    from app.accounts.crypto import EncryptionUnavailable, TokenUnreadable
    from app.accounts.service import reencrypt_tokens
    from app.store.engine import DatabaseError, build_engine
    from app.store.schema_version import SchemaNotCurrent, check_current

    settings = settings_or_exit()
    engine = build_engine(settings.database_url, pool_size=1)
    try:
        check_current(engine)
        moved = reencrypt_tokens(engine, settings.relay_encryption_keys)
    except EncryptionUnavailable as err:
        raise fail(f"configuration error: {err}", CONFIG_EXIT) from None
    except (TokenUnreadable, SchemaNotCurrent) as err:
        raise fail(str(err), 1) from None
    except DatabaseError as err:
        raise fail(database_problem(settings.database_url, err), 1) from None
    finally:
        engine.dispose()
    print(f"re-encrypted {moved} account token(s) with the first RELAY_ENCRYPTION_KEYS key")
    return 0
