"""What Tessera's database holds after flows through the front-end: token digests, never token
values, and none of the end-user's claims once the code is redeemed (they reach Tessera only at
issue time). Each on a stack of its own, so that no other test's rows are in the way."""

import asyncio
import hashlib
import json
import sqlite3

import asyncpg
import pytest

from tests.e2e.agent import UserAgent
from tests.e2e.stack import start_stack
from tests.e2e.test_authlib_client import code_flow, id_token_claims, oauth_client

# OIDC Core §5.5: ask for claims in the ID token, so their values do pass through Tessera.
CLAIMS = json.dumps({"id_token": {"name": None, "email": None}})
# Every table Tessera has (storage/models.py), read whole.
TABLES = ["service_owners", "services", "clients", "signing_keys", "leases", "api_access_tokens",
          "authorization_tickets", "authorization_codes", "access_tokens", "refresh_tokens",
          "granted_scopes", "replay_records", "change_events"]


def _check_flow_and_rows(stack, rows) -> None:
    agent = UserAgent(stack.issuer)
    try:
        session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
        token, nonce = code_flow(stack, agent, session, claims=CLAIMS)
    finally:
        agent.close()
    claims = id_token_claims(stack, token, stack.client("confidential")["clientId"], nonce)
    assert (claims["name"], claims["email"]) == ("Alice Example", "alice@example.com")
    refreshed = session.refresh_token(f"{stack.issuer}/token",
                                      refresh_token=token["refresh_token"])
    stored = {table: rows(f"SELECT * FROM {table}") for table in TABLES}  # noqa: S608
    digests = {row["digest"] for row in stored["access_tokens"]}
    assert hashlib.sha256(refreshed["access_token"].encode()).hexdigest() in digests
    assert all(row["consumed_at"] is not None for row in stored["authorization_codes"])
    everything = json.dumps(stored, default=str)
    for secret in (token["access_token"], refreshed["access_token"], token["refresh_token"],
                   refreshed["refresh_token"]):
        assert secret not in everything
    assert "Alice Example" not in everything and "alice@example.com" not in everything


def test_sqlite_keeps_digests_and_no_user_claims(tmp_path):
    stack = start_stack(tmp_path / "state", tmp_path / "log")
    database = stack.state_dir / "tessera.sqlite3"

    def rows(query: str) -> list[dict]:
        with sqlite3.connect(database) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(query)]

    try:
        _check_flow_and_rows(stack, rows)
    finally:
        assert stack.interrupt() == 0, stack.output()


@pytest.mark.postgres
def test_postgresql_keeps_digests_and_no_user_claims(postgres_url, tmp_path):
    stack = start_stack(tmp_path / "state", tmp_path / "log", database_url=postgres_url)

    def rows(query: str) -> list[dict]:
        async def fetch():
            connection = await asyncpg.connect(postgres_url.replace("postgres://",
                                                                    "postgresql://", 1))
            try:
                return [dict(row) for row in await connection.fetch(query)]
            finally:
                await connection.close()
        return asyncio.run(fetch())

    try:
        _check_flow_and_rows(stack, rows)
    finally:
        assert stack.interrupt() == 0, stack.output()
