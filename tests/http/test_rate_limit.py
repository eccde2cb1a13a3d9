"""Rate limiting over real HTTP (reference §1.1): token buckets per claimed credential and API
group, 429 with Retry-After and RateLimit-* headers and result code A001311."""

import dataclasses

import pytest
import trio

from app import bootstrap
from app.config import BucketSettings, RateLimitSettings
from tests.conftest import _running_node
from tests.support import OWNER, basic, bearer, node_settings

pytestmark = pytest.mark.trio

BURST = 3
RATE = 0.5  # one token per 2 s: the burst cannot refill while a test sends its requests
LIST = "/api/client/get/list"


@pytest.fixture
async def tiny_node(nursery, sqlite_url, tmp_path):
    """A node whose management APIs allow a burst of 3, then one request per 2 seconds."""
    limits = dataclasses.replace(RateLimitSettings(), management=BucketSettings(RATE, BURST))
    settings = node_settings(sqlite_url, tmp_path, rate_limit=limits)
    async with _running_node(nursery, settings) as running:
        yield running


async def new_service(node, name: str = "Limited") -> tuple[dict, dict]:
    response = await node.http.post("/api/service/create", json={"serviceName": name},
                                    headers=OWNER)
    assert response.status_code == 200, response.text
    service = response.json()
    return service, basic(service["apiKey"], service["apiSecret"])


async def use_up_the_burst(node, auth, path: str = LIST) -> None:
    for expected_remaining in range(BURST - 1, -1, -1):
        response = await node.http.get(path, headers=auth)
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit-Remaining"] == str(expected_remaining)
        assert response.headers["RateLimit-Limit"] == str(BURST)
        assert "Retry-After" not in response.headers


def assert_limited(response, path: str = "/client/get/list") -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/json")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    assert response.headers["RateLimit-Remaining"] == "0"
    assert int(response.headers["RateLimit-Reset"]) >= retry_after
    body = response.json()
    assert body["resultCode"] == "A001311"
    assert body["resultMessage"] == (f"[A001311] {path}, too many requests, retry after "
                                     f"{retry_after} seconds.")
    return retry_after


async def test_burst_then_429_with_headers(tiny_node):
    _, auth = await new_service(tiny_node)
    await use_up_the_burst(tiny_node, auth)
    assert_limited(await tiny_node.http.get(LIST, headers=auth))
    # Still refused on the next try: a refused request does not count as a success.
    assert_limited(await tiny_node.http.get(LIST, headers=auth))


async def test_v3_bearer_token_has_its_own_bucket(tiny_node):
    service, auth = await new_service(tiny_node)
    ctx = tiny_node.started.context
    token = await bootstrap.issue_access_token(ctx.storage, service["serviceOwnerNumber"],
                                               service["apiKey"], "test", ctx.clock.now_ms())
    await use_up_the_burst(tiny_node, auth)
    path = f"/api/{service['apiKey']}/client/get/list"
    await use_up_the_burst(tiny_node, bearer(token), path)
    # The message names the API path as the reference does: without /api and the service ID.
    assert_limited(await tiny_node.http.get(path, headers=bearer(token)))


async def test_bucket_refills_after_retry_after(tiny_node):
    _, auth = await new_service(tiny_node)
    await use_up_the_burst(tiny_node, auth)
    retry_after = assert_limited(await tiny_node.http.get(LIST, headers=auth))
    await trio.sleep(retry_after)
    again = await tiny_node.http.get(LIST, headers=auth)
    assert again.status_code == 200, again.text
    assert again.headers["RateLimit-Remaining"] == "0"


async def test_another_credential_is_not_limited(tiny_node):
    _, first = await new_service(tiny_node, "First")
    _, second = await new_service(tiny_node, "Second")
    await use_up_the_burst(tiny_node, first)
    assert_limited(await tiny_node.http.get(LIST, headers=first))
    other = await tiny_node.http.get(LIST, headers=second)
    assert other.status_code == 200
    assert other.headers["RateLimit-Remaining"] == str(BURST - 1)


async def test_other_api_groups_of_the_same_credential_are_not_limited(tiny_node):
    _, auth = await new_service(tiny_node)
    await use_up_the_burst(tiny_node, auth)
    assert_limited(await tiny_node.http.get(LIST, headers=auth))
    discovery = await tiny_node.http.get("/api/service/configuration", headers=auth)
    assert discovery.status_code == 200
    owner = await tiny_node.http.get("/api/service/get/list", headers=OWNER)
    assert owner.status_code == 200


async def test_failed_authentication_consumes_the_claimed_credentials_bucket(tiny_node):
    """Guessing a service's secret is throttled like any other traffic of that API key."""
    service, auth = await new_service(tiny_node)
    api_key = service["apiKey"]
    for expected_remaining in range(BURST - 1, -1, -1):
        guess = await tiny_node.http.get(LIST, headers=basic(api_key, "guess"))
        assert guess.status_code == 401 and guess.json()["resultCode"] == "A003204"
        assert guess.headers["RateLimit-Remaining"] == str(expected_remaining)
    assert_limited(await tiny_node.http.get(LIST, headers=basic(api_key, "guess")))
    # The real credentials now wait too: the bucket belongs to the claimed API key.
    assert_limited(await tiny_node.http.get(LIST, headers=auth))


async def test_unknown_api_keys_are_throttled_too(tiny_node):
    for _ in range(BURST):
        unknown = await tiny_node.http.get(LIST, headers=basic("424242", "x"))
        assert unknown.status_code == 401 and unknown.json()["resultCode"] == "A003201"
    assert_limited(await tiny_node.http.get(LIST, headers=basic("424242", "x")))

