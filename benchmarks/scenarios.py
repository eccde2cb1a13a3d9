"""The workloads: for each scenario, the wrk script and requests for Tessera and for the peer."""

import base64
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx

from benchmarks import peer_node, tessera_node
from benchmarks.load import LoadSpec
from benchmarks.tessera_node import REDIRECT_URI, SeededService, TesseraNode

# Scenario → what it does (README.md and the report say the same).
SCENARIOS = {
    "token-opaque": "client_credentials token, opaque access token",
    "token-es256": "client_credentials token, JWT access token signed with ES256",
    "token-rs256": "client_credentials token, JWT access token signed with RS256",
    "introspection": "introspection of pre-issued opaque tokens, round robin",
    "auth-code": "authorization → issue → code exchange (3 requests per round trip)",
}
# The access-token format each scenario's service (or peer instance) issues.
TOKEN_FORMAT = {"token-opaque": "opaque", "token-es256": "jwt-es256",
                "token-rs256": "jwt-rs256", "introspection": "opaque", "auth-code": "opaque"}
PEER_SCENARIOS = ("token-opaque", "token-es256", "token-rs256", "introspection")
TESSERA_OK = '"action":"OK"'


def basic_authorization(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def issue_many(base_url: str, issue_one: Callable[[httpx.Client], str], count: int) -> list[str]:
    with httpx.Client(base_url=base_url, timeout=30) as http, ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: issue_one(http), range(count)))


def write_tokens(path: Path, tokens: list[str]) -> Path:
    path.write_text("\n".join(tokens) + "\n")
    return path


# --- Tessera -----------------------------------------------------------------------------------

def tessera_load(scenario: str, node: TesseraNode, workdir: Path, tokens: int) -> LoadSpec:
    seeded = node.services[TOKEN_FORMAT[scenario]]
    if scenario == "auth-code":
        return LoadSpec("flow.lua", node.base_url, {"BENCH_FLOW": "auth-code",
                                                    **flow_env(seeded)}, unit="code exchanges")
    env = {"BENCH_AUTHORIZATION": basic_authorization(*seeded.service.basic),
           "BENCH_CONTENT_TYPE": "application/json", "BENCH_EXPECT": TESSERA_OK}
    if scenario == "introspection":
        issued = issue_many(node.base_url, lambda http: tessera_node.issue_token(http, seeded),
                            tokens)
        path = write_tokens(workdir / f"tessera-tokens-{node.pid}.txt", issued)
        env |= {"BENCH_PATH": "/api/auth/introspection", "BENCH_BODY": '{"token":"@@"}',
                "BENCH_TOKENS_FILE": str(path)}
    else:
        env |= {"BENCH_PATH": "/api/auth/token",
                "BENCH_BODY": _json(tessera_node.client_credentials_body(seeded))}
    return LoadSpec("request.lua", node.base_url, env)


def flow_env(seeded: SeededService) -> dict[str, str]:
    """The bodies of lua/flow.lua; "@@" is where the value from the previous answer goes."""
    client = {"clientId": seeded.client.key, "clientSecret": seeded.client.secret}
    authorization = urlencode({"response_type": "code", "client_id": seeded.client.key,
                               "redirect_uri": REDIRECT_URI, "scope": "openid api:read",
                               "state": "bench-state"})
    code = urlencode({"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI})
    return {
        "BENCH_AUTHORIZATION": basic_authorization(*seeded.service.basic),
        "BENCH_AUTHORIZE_BODY": _json({"parameters": authorization}),
        "BENCH_ISSUE_BODY": _json({"ticket": "@@", "subject": "user1"}),
        "BENCH_CODE_BODY": _json({"parameters": code + "&code=@@", **client}),
        "BENCH_REFRESH_BODY": _json({"parameters": "grant_type=refresh_token&refresh_token=@@",
                                     **client}),
        "BENCH_CC_BODY": _json(tessera_node.client_credentials_body(seeded)),
        "BENCH_INTROSPECT_BODY": _json({"token": "@@"}),
    }


def _json(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- The peer ----------------------------------------------------------------------------------

def peer_load(scenario: str, peer: peer_node.PeerNode, workdir: Path, tokens: int) -> LoadSpec:
    env = {"BENCH_AUTHORIZATION": basic_authorization(*peer_node.CLIENT),
           "BENCH_CONTENT_TYPE": "application/x-www-form-urlencoded"}
    if scenario == "introspection":
        issued = issue_many(peer.base_url, peer_node.issue_token, tokens)
        path = write_tokens(workdir / f"peer-tokens-{peer.pid}.txt", issued)
        env |= {"BENCH_PATH": peer_node.INTROSPECT_PATH, "BENCH_BODY": "token=@@",
                "BENCH_TOKENS_FILE": str(path), "BENCH_EXPECT": '"active":true'}
    else:
        env |= {"BENCH_PATH": peer_node.ISSUE_PATH, "BENCH_BODY": peer_node.token_form(),
                "BENCH_EXPECT": '"access_token"'}
    return LoadSpec("request.lua", peer.base_url, env)
