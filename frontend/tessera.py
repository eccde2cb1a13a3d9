"""A small async client for Tessera's Web API (v2 paths, the service's HTTP Basic credentials).

Each method posts one request object and returns the response object as a dict. A failure of
the API call itself (network, non-2xx status) raises `TesseraError`: that is the front-end's
problem, never the end-user's, so callers answer it with a generic server error.
"""

import json

import httpx
import structlog

_log = structlog.get_logger("frontend.tessera")


class TesseraError(Exception):
    """The API call failed: Tessera unreachable, or it refused the call (4xx/5xx)."""

    def __init__(self, path: str, status: int | None, detail: str):
        super().__init__(f"{path}: {status or 'no response'}: {detail}")
        self.path, self.status, self.detail = path, status, detail


class TesseraClient:
    def __init__(self, base_url: str, api_key: str, api_secret: str, timeout: float = 10.0):
        self._http = httpx.AsyncClient(base_url=f"{base_url}/api", auth=(api_key, api_secret),
                                       timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- reference §2.1: the authorization endpoint --------------------------------------
    async def authorization(self, parameters: str) -> dict:
        return await self._post("/auth/authorization", {"parameters": parameters})

    async def authorization_issue(self, ticket: str, subject: str, *, auth_time: int,
                                  claims: dict | None = None,
                                  scopes: list[str] | None = None) -> dict:
        body = {"ticket": ticket, "subject": subject, "authTime": auth_time}
        if claims:
            body["claims"] = _json(claims)
        if scopes is not None:
            body["scopes"] = scopes
        return await self._post("/auth/authorization/issue", body)

    async def authorization_fail(self, ticket: str, reason: str) -> dict:
        return await self._post("/auth/authorization/fail", {"ticket": ticket, "reason": reason})

    async def ticket_info(self, ticket: str) -> dict:
        return await self._post("/auth/authorization/ticket/info", {"ticket": ticket})

    async def ticket_update(self, ticket: str, context: str) -> dict:
        return await self._post("/auth/authorization/ticket/update",
                                {"ticket": ticket, "info": {"context": context}})

    # --- reference §2.2: the token endpoint ----------------------------------------------
    async def token(self, parameters: str, client_id: str | None,
                    client_secret: str | None) -> dict:
        return await self._post("/auth/token",
                                _with_client(parameters, client_id, client_secret))

    async def token_issue(self, ticket: str, subject: str) -> dict:
        return await self._post("/auth/token/issue", {"ticket": ticket, "subject": subject})

    async def token_fail(self, ticket: str, reason: str) -> dict:
        return await self._post("/auth/token/fail", {"ticket": ticket, "reason": reason})

    async def id_token_reissue(self, access_token: str, refresh_token: str) -> dict:
        return await self._post("/idtoken/reissue", {"accessToken": access_token,
                                                      "refreshToken": refresh_token})

    # --- reference §2.4-2.6: introspection, revocation, userinfo -------------------------
    async def standard_introspection(self, parameters: str, accept: str | None) -> dict:
        body = {"parameters": parameters}
        if accept:
            body["httpAcceptHeader"] = accept
        return await self._post("/auth/introspection/standard", body)

    async def revocation(self, parameters: str, client_id: str | None,
                         client_secret: str | None) -> dict:
        return await self._post("/auth/revocation",
                                _with_client(parameters, client_id, client_secret))

    async def userinfo(self, token: str | None) -> dict:
        return await self._post("/auth/userinfo", {"token": token} if token else {})

    async def userinfo_issue(self, token: str, claims: dict) -> dict:
        return await self._post("/auth/userinfo/issue", {"token": token, "claims": _json(claims)})

    # --- reference §2.11: discovery and JWKS ---------------------------------------------
    async def configuration(self) -> str:
        return (await self._get("/service/configuration")).text

    async def jwks(self) -> str | None:
        """The service's JWK Set as JSON text; None when it has no keys (204)."""
        response = await self._get("/service/jwks/get")
        return None if response.status_code == 204 else response.text

    # --- plumbing ------------------------------------------------------------------------
    async def _post(self, path: str, body: dict) -> dict:
        response = await self._send("POST", path, json=body)
        try:
            return response.json()
        except ValueError as error:
            raise TesseraError(path, response.status_code, "the body is not JSON") from error

    async def _get(self, path: str) -> httpx.Response:
        return await self._send("GET", path)

    async def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            _log.error("tessera.unreachable", path=path, error=type(error).__name__)
            raise TesseraError(path, None, type(error).__name__) from error
        if response.status_code >= 300:
            detail = _result_message(response)
            _log.error("tessera.refused", path=path, status=response.status_code, detail=detail)
            raise TesseraError(path, response.status_code, detail)
        return response


def _result_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('resultCode')} {body.get('resultMessage')}"
    except (ValueError, AttributeError):
        return response.text[:200]


def _with_client(parameters: str, client_id: str | None, client_secret: str | None) -> dict:
    """`parameters` plus the client's HTTP Basic credentials, when it sent them."""
    body = {"parameters": parameters}
    if client_id is not None:
        body.update(clientId=client_id, clientSecret=client_secret)
    return body


def _json(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))
