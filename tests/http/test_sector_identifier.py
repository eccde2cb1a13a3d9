"""OIDC Core §8.1 / Registration §5: a client's sectorIdentifierUri must list its redirect URIs.

The URI is fetched from a real local HTTPS server (self-signed certificate for localhost), through
the SSRF guard of app/outbound.py.
"""

import dataclasses
import datetime
import ipaddress
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypercorn.config import Config
from hypercorn.trio import serve

from app.config import OutboundSettings
from app.node import run_node
from tests.support import OWNER, basic, node_settings

pytestmark = pytest.mark.trio

REDIRECT_URIS = ["https://rp.example.com/cb", "https://rp.example.net/cb"]


@dataclass
class SectorServer:
    base_url: str = ""
    listed: list = field(default_factory=lambda: list(REDIRECT_URIS))
    paths: list[str] = field(default_factory=list)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        self.paths.append(scope["path"])
        answer = _ANSWERS.get(scope["path"], _not_found)
        await answer(self, send)


async def _lifespan(receive, send):
    while True:
        message = await receive()
        kind = message["type"].rpartition(".")[2]
        await send({"type": f"{message['type']}.complete"})
        if kind == "shutdown":
            return


async def _sector_json(server, send):
    await _send(send, 200, json.dumps(server.listed).encode(), "application/json")


async def _redirect(server, send):
    await send({"type": "http.response.start", "status": 302,
                "headers": [(b"location", f"{server.base_url}/sector.json".encode()),
                            (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def _big(server, send):
    # Chunked, no Content-Length: the limit must be enforced while streaming.
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    chunk = b" " * 10_000
    for _ in range(8):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"[]"})


async def _not_json(server, send):
    await _send(send, 200, b"<html>not json</html>", "text/html")


async def _object(server, send):
    await _send(send, 200, json.dumps({"redirect_uris": server.listed}).encode(),
                "application/json")


async def _not_found(server, send):
    await _send(send, 404, b"", "text/plain")


_ANSWERS = {"/sector.json": _sector_json, "/redirect": _redirect, "/big": _big,
            "/not-json": _not_json, "/object": _object}


async def _send(send, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for localhost and 127.0.0.1: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "sector-cert.pem", tmp_path / "sector-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
async def sector_server(nursery, certificate):
    server = SectorServer()
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.certfile, config.keyfile = certificate
    config.accesslog = None
    shutdown = trio.Event()
    binds = await nursery.start(lambda task_status: serve(
        server, config, shutdown_trigger=shutdown.wait, task_status=task_status))
    port = binds[0].rsplit(":", 1)[1]
    server.base_url = f"https://localhost:{port}"
    yield server
    shutdown.set()


@asynccontextmanager
async def running_node(nursery, settings):
    shutdown, stopped = trio.Event(), trio.Event()

    async def node_task(task_status):
        try:
            await run_node(settings, shutdown=shutdown, task_status=task_status)
        finally:
            stopped.set()

    started = await nursery.start(node_task)
    async with httpx.AsyncClient(base_url=f"http://{started.addresses[0]}", timeout=30) as http:
        yield http
    shutdown.set()
    with trio.fail_after(30):
        await stopped.wait()


@pytest.fixture
async def node_http(nursery, sqlite_url, tmp_path, certificate):
    """A node allowed to fetch from loopback, trusting the test server's certificate."""
    outbound = OutboundSettings(allow_private_targets=True, ca_file=certificate[0])
    settings = dataclasses.replace(node_settings(sqlite_url, tmp_path), outbound=outbound)
    async with running_node(nursery, settings) as http:
        yield http


async def service_auth(http) -> dict:
    body = {"serviceName": "Sector"}
    service = (await http.post("/api/service/create", json=body, headers=OWNER)).json()
    return basic(service["apiKey"], service["apiSecret"])


def client_body(sector_uri: str) -> dict:
    return {"clientName": "RP", "redirectUris": REDIRECT_URIS, "sectorIdentifierUri": sector_uri}


async def client_count(http, auth) -> int:
    return (await http.get("/api/client/get/list", headers=auth)).json()["totalCount"]


async def test_listed_redirect_uris_are_accepted(node_http, sector_server):
    auth = await service_auth(node_http)
    uri = f"{sector_server.base_url}/sector.json"
    created = await node_http.post("/api/client/create", json=client_body(uri), headers=auth)
    assert created.status_code == 200, created.text
    assert created.json()["sectorIdentifierUri"] == uri
    assert sector_server.paths == ["/sector.json"]


async def test_a_missing_redirect_uri_is_refused_naming_both(node_http, sector_server):
    auth = await service_auth(node_http)
    sector_server.listed = REDIRECT_URIS[:1]
    uri = f"{sector_server.base_url}/sector.json"
    refused = await node_http.post("/api/client/create", json=client_body(uri), headers=auth)
    assert refused.status_code == 400
    body = refused.json()
    assert body["resultCode"] == "A030201"
    assert uri in body["resultMessage"] and REDIRECT_URIS[1] in body["resultMessage"]
    assert await client_count(node_http, auth) == 0


async def test_update_is_checked_and_nothing_is_written_on_refusal(node_http, sector_server):
    auth = await service_auth(node_http)
    plain = {"clientName": "RP", "redirectUris": REDIRECT_URIS}
    client = (await node_http.post("/api/client/create", json=plain, headers=auth)).json()
    sector_server.listed = ["https://elsewhere.example.org/cb"]
    uri = f"{sector_server.base_url}/sector.json"
    refused = await node_http.post(f"/api/client/update/{client['clientId']}",
                                   json={**client, "sectorIdentifierUri": uri}, headers=auth)
    assert refused.status_code == 400 and refused.json()["resultCode"] == "A030201"
    stored = (await node_http.get(f"/api/client/get/{client['clientId']}", headers=auth)).json()
    assert stored == client

    sector_server.listed = REDIRECT_URIS
    accepted = await node_http.post(f"/api/client/update/{client['clientId']}",
                                    json={**client, "sectorIdentifierUri": uri}, headers=auth)
    assert accepted.status_code == 200 and accepted.json()["sectorIdentifierUri"] == uri


@pytest.mark.parametrize(("path", "reason"), [
    pytest.param("/redirect", "HTTP 302 (a redirect); redirects are not followed", id="redirect"),
    pytest.param("/big", "larger than 65536 bytes", id="too-big"),
    pytest.param("/not-json", "not JSON", id="not-json"),
    pytest.param("/object", "not a JSON array of strings", id="not-an-array"),
    pytest.param("/missing", "HTTP 404", id="not-found"),
])
async def test_unusable_answers_are_refused(node_http, sector_server, path, reason):
    auth = await service_auth(node_http)
    uri = f"{sector_server.base_url}{path}"
    refused = await node_http.post("/api/client/create", json=client_body(uri), headers=auth)
    assert refused.status_code == 400
    assert refused.json()["resultCode"] == "A030201"
    assert uri in refused.json()["resultMessage"] and reason in refused.json()["resultMessage"]
    assert sector_server.paths == [path]  # the redirect target was never requested
    assert await client_count(node_http, auth) == 0


async def test_untrusted_certificate_is_refused(nursery, sqlite_url, tmp_path, sector_server):
    outbound = OutboundSettings(allow_private_targets=True)  # no extra CA: self-signed fails
    settings = dataclasses.replace(node_settings(sqlite_url, tmp_path), outbound=outbound)
    async with running_node(nursery, settings) as http:
        auth = await service_auth(http)
        uri = f"{sector_server.base_url}/sector.json"
        refused = await http.post("/api/client/create", json=client_body(uri), headers=auth)
    assert refused.status_code == 400 and "CERTIFICATE_VERIFY_FAILED" in refused.text


async def test_private_targets_are_refused_by_default_without_a_request(
        nursery, sqlite_url, tmp_path, certificate, sector_server):
    outbound = OutboundSettings(ca_file=certificate[0])  # trusted, but loopback is refused
    settings = dataclasses.replace(node_settings(sqlite_url, tmp_path), outbound=outbound)
    async with running_node(nursery, settings) as http:
        auth = await service_auth(http)
        for host in ("localhost", "127.0.0.1"):
            uri = f"{sector_server.base_url.replace('localhost', host)}/sector.json"
            refused = await http.post("/api/client/create", json=client_body(uri), headers=auth)
            assert refused.status_code == 400
            message = refused.json()["resultMessage"]
            assert refused.json()["resultCode"] == "A030201" and uri in message
            assert "non-public address" in message and "is not fetched" in message
        assert await client_count(http, auth) == 0
    assert sector_server.paths == []
