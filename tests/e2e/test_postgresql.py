"""The demo stack on PostgreSQL: a full code flow through the front-end, and what the
database holds afterwards (digests, never token values; no user claims)."""

import asyncio
import hashlib
import json

import asyncpg
import pytest

from tests.e2e.agent import UserAgent
from tests.e2e.stack import start_stack
from tests.e2e.test_authlib_client import code_flow, id_token_claims, oauth_client

pytestmark = pytest.mark.postgres


def _rows(url: str, query: str) -> list[dict]:
    async def fetch():
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return [dict(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()
    return asyncio.run(fetch())


def test_code_flow_refresh_and_revocation_on_postgresql(postgres_url, tmp_path):
    stack = start_stack(tmp_path / "state", tmp_path / "log", database_url=postgres_url)
    agent = UserAgent(stack.issuer)
    try:
        session = oauth_client(stack, stack.client("confidential"), "client_secret_basic")
        token, nonce = code_flow(stack, agent, session)
        assert id_token_claims(stack, token, stack.client("confidential")["clientId"],
                               nonce)["sub"] == "alice"
        refreshed = session.refresh_token(f"{stack.issuer}/token",
                                          refresh_token=token["refresh_token"])
        stored = _rows(postgres_url, "SELECT digest, subject, payload FROM access_tokens")
        codes = _rows(postgres_url, "SELECT payload, consumed_at FROM authorization_codes")
        assert len(codes) == 1 and codes[0]["consumed_at"] is not None
        digests = {row["digest"] for row in stored}
        assert hashlib.sha256(refreshed["access_token"].encode()).hexdigest() in digests
        everything = json.dumps([stored, codes], default=str)
        assert refreshed["access_token"] not in everything
        assert "Alice Example" not in everything and "alice@example.com" not in everything
        session.revoke_token(f"{stack.issuer}/revoke", token=refreshed["refresh_token"],
                             token_type_hint="refresh_token")
        assert _rows(postgres_url, "SELECT digest FROM refresh_tokens") == []
    finally:
        agent.close()
        assert stack.interrupt() == 0, stack.output()
