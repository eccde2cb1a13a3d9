"""Token lifetimes (reference §3 "Token durations": the shortest applicable value wins) and
minting (values never stored, only digests)."""

import hashlib

import pytest

from app.protocol.tokens import TokenOrder, effective_duration, mint, token_digest

SERVICE = {
    "accessTokenDuration": 3600,
    "refreshTokenDuration": 86400,
    "supportedScopes": [
        {"name": "read"},
        {"name": "short", "attributes": [{"key": "access_token.duration", "value": "60"}]},
        {"name": "rt", "attributes": [{"key": "refresh_token.duration", "value": "600"}]},
        {"name": "odd", "attributes": [{"key": "access_token.duration", "value": "soon"}]},
    ],
}


@pytest.mark.parametrize(("kind", "client", "scopes", "requested", "expected"), [
    ("access_token", {}, ["read"], None, 3600),
    ("access_token", {"extension": {"accessTokenDuration": 900}}, ["read"], None, 900),
    ("access_token", {"extension": {"accessTokenDuration": 7200}}, ["read"], None, 3600),
    ("access_token", {}, ["read", "short"], None, 60),
    ("access_token", {}, ["short"], 30, 30),
    ("access_token", {}, ["read"], 0, 3600),
    ("access_token", {}, ["odd"], None, 3600),
    ("refresh_token", {}, ["rt"], None, 600),
    ("refresh_token", {"extension": {"refreshTokenDuration": 300}}, ["rt"], None, 300),
], ids=["service", "client-shorter", "client-longer-ignored", "scope-attribute",
        "request-shortest", "zero-request-ignored", "non-numeric-attribute-ignored",
        "refresh-scope-attribute", "refresh-client-shorter"])
def test_shortest_applicable_duration_wins(kind, client, scopes, requested, expected):
    assert effective_duration(kind, SERVICE, client, scopes, requested) == expected


def test_mint_links_access_and_refresh_tokens_by_digest():
    order = TokenOrder(service_api_key=1, client_id=2, subject="alice", grant_type="PASSWORD",
                       scopes=["read"], payload={}, access_seconds=60, refresh_seconds=600,
                       with_refresh=True)
    minted = mint(order, now_ms=1_000_000)
    assert minted.access.digest == hashlib.sha256(minted.access_token.encode()).hexdigest()
    assert minted.access.refresh_digest == minted.refresh.digest == token_digest(
        minted.refresh_token)
    assert minted.access.grant_id == minted.refresh.grant_id
    assert (minted.access.expires_at, minted.refresh.expires_at) == (1_060_000, 1_600_000)
    assert len(minted.access_token) >= 43 and minted.access_token != minted.refresh_token


def test_mint_without_refresh():
    order = TokenOrder(service_api_key=1, client_id=2, subject=None,
                       grant_type="CLIENT_CREDENTIALS", scopes=[], payload={},
                       access_seconds=60, refresh_seconds=0, with_refresh=False)
    minted = mint(order, now_ms=0)
    assert minted.refresh is None and minted.refresh_token is None
    assert minted.access.refresh_digest is None
