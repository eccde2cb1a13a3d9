"""The one catalog of result codes.

A code is "A" + a three-digit group + a one-digit category + a two-digit serial (reference §4):
category 0 success, 1 server error, 2 caller (API user) error, 3 client-application error,
6 user-operation error. Numbers follow the reference wherever the meaning matches; Tessera's own
operations (key management, health) use group 900 and up. Messages are ours. `{path}` is the API
path; API-level messages start with it, as the reference's do.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ResultCode:
    code: str
    template: str
    status: int = 200
    oauth_error: str | None = None

    def message(self, **params: object) -> str:
        return f"[{self.code}] {self.template.format(**params)}"


CATALOG: dict[str, ResultCode] = {}


def _define(code: str, template: str, status: int = 200, oauth_error: str | None = None):
    if code in CATALOG:
        raise ValueError(f"result code {code} defined twice")
    CATALOG[code] = ResultCode(code, template, status, oauth_error)
    return CATALOG[code]


# --- API layer: authentication of the caller, request decoding (group 001) --------------------
SERVER_ERROR = _define("A001101", "{path}, the server failed to process the request.", 500)
STORAGE_UNAVAILABLE = _define(
    "A001102", "{path}, the database is not reachable at the moment; retry later.", 503)
AUTHORIZATION_MISSING = _define("A001202", "{path}, the Authorization header is missing.", 401)
AUTHORIZATION_MALFORMED = _define(
    "A001203", "{path}, the credentials in the Authorization header are malformed: {reason}.", 400)
BODY_NOT_JSON = _define(
    "A001204", "{path}, the request body is not a JSON object: {reason}.", 400)
ACCESS_TOKEN_UNKNOWN = _define(
    "A001205", "{path}, no service or service owner has the presented access token.", 401)
SERVICE_MISMATCH = _define(
    "A001206", "{path}, the access token does not grant access to the service (ID = {api_key}).",
    403)
SCHEME_NOT_ALLOWED = _define(
    "A001207", "{path}, '{scheme}' credentials cannot be used for this API; use {expected}.", 401)
CLIENT_NOT_FOUND = _define("A001212", "{path}, the client (ID = {client_id}) does not exist.", 404)
CLIENT_LOCKED = _define("A001215", "{path}, the client (ID = {client_id}) is locked.", 403)
CLIENT_IDENTIFIER_INVALID = _define(
    "A001218", "{path}, the client identifier '{identifier}' is neither a client ID nor an alias.",
    404)
ALIAS_NOT_ALLOWED = _define(
    "A001222", "{path}, the client (identifier = {identifier}) exists but its configuration does "
    "not allow the client ID alias to be used.", 404)
FEATURE_DISABLED = _define(
    "A001223", "{path}, the feature '{feature}' must be enabled to use this API.", 403)
PRIVATE_KEYS_NOT_EXPORTED = _define(
    "A001224", "{path}, private keys are never exported; 'includePrivateKeys' must be false.", 403)
NOT_FOUND = _define("A001225", "{path}, no such API.", 404)
METHOD_NOT_ALLOWED = _define("A001226", "{path}, the HTTP method {method} is not allowed.", 405)
BODY_TOO_LARGE = _define(
    "A001227", "{path}, the request body exceeds {limit} bytes.", 413)
TOO_MANY_REQUESTS = _define(
    "A001311", "{path}, too many requests, retry after {retry_after} seconds.", 429)

# --- Credentials (groups 002 service owner, 003 service) --------------------------------------
OWNER_UNKNOWN = _define("A002201", "{path}, no service owner has the API credentials.", 401)
OWNER_SECRET_MISMATCH = _define(
    "A002205", "{path}, the API credentials do not match those of the service owner.", 401)
SERVICE_UNKNOWN = _define("A003201", "{path}, no service has the API credentials.", 401)
SERVICE_SECRET_MISMATCH = _define(
    "A003204", "{path}, the API credentials do not match those of the service (API Key = "
    "{api_key}).", 401)

# --- Request values (group 031, 039) ----------------------------------------------------------
VALUE_NOT_SUPPORTED = _define(
    "A031201", "{path}, '{value}' is not supported as a value for '{key}'.", 400)
VALUE_INVALID = _define("A031202", "{path}, the value of '{key}' is invalid: {reason}.", 400)
PATCH_INVALID = _define("A031203", "{path}, 'patch' is not a usable JSON Patch: {reason}.", 400)
QUERY_INVALID = _define(
    "A031204", "{path}, the query parameter '{key}' has an invalid value '{value}': {reason}.", 400)
REQUEST_EMPTY = _define("A039201", "{path}, the request is empty.", 400)

# --- Service management (groups 033-035) ------------------------------------------------------
SERVICE_CREATED = _define("A033001", "The service (API Key = {api_key}) was created successfully.")
SERVICE_DELETED = _define("A034001", "The service (API Key = {api_key}) was deleted successfully.")
SERVICE_NOT_FOUND = _define(
    "A035201", "{path}, the service (API Key = {api_key}) does not exist.", 404)

# --- Client management (groups 026-030, 123, 148-149, 293) ------------------------------------
CLIENT_DELETED = _define("A026001", "The client (ID = {client_id}) was deleted successfully.")
CLIENT_ALIAS_IN_USE = _define(
    "A030601", "{path}, the client ID alias '{alias}' is already used by another client of this "
    "service; aliases must be unique within a service.", 409)
CLIENTS_PER_DEVELOPER_EXCEEDED = _define(
    "A123601", "{path}, the developer '{developer}' already has the maximum number ({limit}) of "
    "clients allowed by the service.", 403)
CLIENT_SECRET_REFRESHED = _define(
    "A148001", "The client secret of the client (ID = {client_id}) was refreshed.")
CLIENT_SECRET_UPDATED = _define(
    "A149001", "The client secret of the client (ID = {client_id}) was updated.")
CLIENT_SECRET_INVALID = _define(
    "A149202", "{path}, the new client secret is unusable: {reason}.", 400)
CLIENT_LOCK_UPDATED = _define(
    "A293001", "The lock flag of the client (identifier = {identifier}) was updated.")

# --- Tessera's own operations (group 900+) -----------------------------------------------------
KEYS_ROTATED = _define(
    "A900001", "Key rotation for the service (API Key = {api_key}): rotated {rotated}; "
    "pending {pending}.")
ACTOR_UNAVAILABLE = _define(
    "A900101", "{path}, an internal component did not answer in time; retry later.", 503)


def lookup(code: str) -> ResultCode:
    return CATALOG[code]
