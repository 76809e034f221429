"""The OpenAPI paths and components of Zapier accounts (/v1/accounts)."""

from __future__ import annotations

from app.api.openapi.parts import BODY_ERRORS, json_ref, path_params, responses
from app.schemas import accounts
from app.schemas.account_ids import ACCOUNT_ID_PATTERN

ACCOUNTS_COMPONENTS = {
    "BudgetOverrides": accounts.BudgetOverrides,
    "AccountCreate": accounts.AccountCreate,
    "AccountUpdate": accounts.AccountUpdate,
    "Account": accounts.Account,
    "AccountList": accounts.AccountList,
    "AccountEnvelope": accounts.AccountEnvelope,
}
CONFLICTS = (
    "409: the id is taken (account_exists); `default`, which is ZAPIER_ACCESS_TOKEN "
    "(default_is_configured) or in sandbox mode the sandbox's (default_is_virtual); "
    "RELAY_ENCRYPTION_KEYS is not set (encryption_unavailable: no token can be stored)."
)


def accounts_paths() -> dict:
    account = path_params("account_id")
    client = [400, 401, 405, 409, *BODY_ERRORS]
    return {
        "/v1/accounts": {
            "get": {
                "operationId": "listAccounts",
                "description": "Every account, `default` included (ZAPIER_ACCESS_TOKEN's, or "
                "the sandbox's). Tokens are never shown: only their fingerprint.",
                "responses": responses(
                    {"200": {"description": "Accounts", **json_ref("AccountList")}}, 401
                ),
            },
            "post": {
                "operationId": "createAccount",
                "description": f"The id is a slug ({ACCOUNT_ID_PATTERN}). {CONFLICTS}",
                "requestBody": {"required": True, **json_ref("AccountCreate")},
                "responses": responses(
                    {"201": {"description": "Created", **json_ref("AccountEnvelope")}}, *client
                ),
            },
        },
        "/v1/accounts/{account_id}": {
            "parameters": account,
            "get": {
                "operationId": "getAccount",
                "responses": responses(
                    {"200": {"description": "Account", **json_ref("AccountEnvelope")}}, 401, 404
                ),
            },
            "patch": {
                "operationId": "updateAccount",
                "description": "Rotates the token (an unauthorized account is active again and "
                "its held work resumes) or sets budgets (null clears them). 409 for `default` "
                "(ZAPIER_ACCESS_TOKEN's or the sandbox's), or without RELAY_ENCRYPTION_KEYS.",
                "requestBody": {"required": True, **json_ref("AccountUpdate")},
                "responses": responses(
                    {"200": {"description": "Updated", **json_ref("AccountEnvelope")}},
                    404,
                    *client,
                ),
            },
            "delete": {
                "operationId": "deleteAccount",
                "description": "409 while open runs or watches use the account (account_in_use), "
                "and for `default`.",
                "responses": responses({"204": {"description": "Deleted"}}, 401, 404, 409),
            },
        },
    }
