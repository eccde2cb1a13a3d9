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
    """`status` is the HTTP status of an API-level answer. Codes of action APIs
    (`action=True`) travel with HTTP 200: the `action` tells the front-end what to answer
    (reference §2.0)."""
    code: str
    template: str
    status: int = 200
    oauth_error: str | None = None
    action: bool = False

    def message(self, **params: object) -> str:
        return f"[{self.code}] {self.template.format(**params)}"


CATALOG: dict[str, ResultCode] = {}


def _define(code: str, template: str, status: int = 200, oauth_error: str | None = None,
            *, action: bool = False):
    if code in CATALOG:
        raise ValueError(f"result code {code} defined twice")
    CATALOG[code] = ResultCode(code, template, status, oauth_error, action)
    return CATALOG[code]


def _action(code: str, template: str, oauth_error: str | None = None):
    """A code reported inside an action API's 200 answer."""
    return _define(code, template, 200, oauth_error, action=True)


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
SECTOR_IDENTIFIER_INVALID = _define(
    "A030201", "{path}, the sector identifier URI '{uri}' cannot be used: {reason}.", 400)
CLIENT_LOCK_UPDATED = _define(
    "A293001", "The lock flag of the client (identifier = {identifier}) was updated.")

# --- Token management (groups 109, 161, 312) and introspection (056, 064, 066, 088, 089, 097) --
TOKEN_CREATED = _action(
    "A109001", "An access token was created: grant type {grant_type}, client {client_id}.")
TOKEN_CREATE_CLIENT_MISSING = _action(
    "A109201", "The token creation request does not name a client in 'clientId'.")
TOKEN_CREATE_CLIENT_UNKNOWN = _action(
    "A109202", "No client with ID {client_id} exists in this service.")
TOKEN_CREATE_SUBJECT_MISSING = _action(
    "A109203", "'subject' is required for grant type {grant_type}.")
TOKEN_CREATE_GRANT_UNSUPPORTED = _action(
    "A109204", "'{grant_type}' cannot be used as 'grantType' of a created token.")
TOKEN_CREATE_VALUE_INVALID = _action(
    "A109205", "The value of '{key}' is invalid: {reason}.")
TOKEN_CREATE_VALUE_IN_USE = _action(
    "A109207", "The '{key}' value chosen by the caller is already in use; choose another.")
TOKEN_CREATE_REFRESH_NOT_ISSUED = _action(
    "A109208", "'refreshToken' was given, but no refresh token is issued for grant type "
    "{grant_type} (the grant is not refreshable or the service does not support REFRESH_TOKEN).")
TOKEN_CREATE_CLIENT_LOCKED = _action(
    "A109306", "The client (ID = {client_id}) is locked; no token is created for it.")
ID_TOKEN_REISSUED = _action("A346001", "A new ID token was issued with the refreshed tokens.")
ID_TOKEN_REISSUE_TOKENS_MISSING = _action(
    "A346201", "The /idtoken/reissue request must contain 'accessToken' and 'refreshToken'.")
ID_TOKEN_REISSUE_TOKENS_UNRELATED = _action(
    "A346202", "The access token and the refresh token are unknown, expired or not of the same "
    "grant.")
ID_TOKEN_REISSUE_NOT_OPENID = _action(
    "A346203", "The tokens do not cover the 'openid' scope, so no ID token can be issued.")
ID_TOKEN_REISSUE_KEY_MISSING = _action(
    "A346101", "No current signing key exists for '{alg}'; the ID token cannot be signed.")
TOKEN_UPDATED = _action("A135001", "The access token was updated.")
TOKEN_UPDATE_TOKEN_MISSING = _action(
    "A135201", "The token update request names no token: give 'accessToken' or "
    "'accessTokenHash'.")
TOKEN_UPDATE_TOKEN_UNKNOWN = _action("A135202", "No access token matches the request.")
TOKEN_UPDATE_VALUE_INVALID = _action(
    "A135203", "The value of '{key}' is invalid: {reason}.")
TOKEN_DELETED = _define("A161001", "The token was deleted.")
TOKEN_NOT_FOUND = _define(
    "A161201", "{path}, no access token has the identifier '{identifier}'.", 404)
TOKENS_REVOKED = _define("A312001", "Revoked {count} access token(s).")
TOKEN_REVOKE_NO_FILTER = _define(
    "A312201", "{path}, name a token, a client or a subject to revoke: 'accessTokenIdentifier', "
    "'refreshTokenIdentifier', 'clientIdentifier' or 'subject'.", 400)
INTROSPECTION_OK = _action("A056001", "The access token is valid.")
INTROSPECTION_TOKEN_MISSING = _action(
    "A056201", "The introspection request does not contain 'token'.")
INTROSPECTION_SCOPES_INVALID = _action(
    "A056202", "'scopes' of the introspection request must be an array of strings.")
INTROSPECTION_SCOPE_INSUFFICIENT = _action(
    "A064302", "The access token does not cover the required scope '{scope}'.",
    oauth_error="insufficient_scope")
INTROSPECTION_SUBJECT_DIFFERS = _action(
    "A066302", "The subject of the access token is not the subject required to access the "
    "resource.", oauth_error="insufficient_scope")
INTROSPECTION_TOKEN_UNKNOWN = _action(
    "A088302", "The access token does not exist.", oauth_error="invalid_token")
INTROSPECTION_TOKEN_EXPIRED = _action(
    "A089301", "The access token has expired and has no refresh token.",
    oauth_error="invalid_token")
INTROSPECTION_TOKEN_EXPIRED_REFRESHABLE = _action(
    "A089303", "The access token has expired, but its refresh token can obtain a new one.",
    oauth_error="invalid_token")
INTROSPECTION_CLIENT_LOCKED = _action(
    "A097303", "The client application of the access token is locked.",
    oauth_error="invalid_token")

# --- Client authentication (group 157, RFC 6749 §2.3, RFC 7523 §3, OIDC Core §9) ---------------
# Reference numbers where the meaning matches (A157301, A157304, A157326, A157344); Tessera's own
# serials start at 60, clear of the published ones (A157335-A157349 are certificate checks).
# All answer the token request with action INVALID_CLIENT (RFC 6749 §5.2 "invalid_client").
CLIENT_AUTH_NONE_FOR_CONFIDENTIAL = _action(
    "A157301", "The client type of the client (ID = {client_id}) is 'confidential' but the "
    "client authentication method is 'none'; a confidential client must authenticate "
    "(RFC 6749 §2.3.1).", oauth_error="invalid_client")
CLIENT_AUTH_SECRET_MISSING = _action(
    "A157304", "The client authentication method is '{method}' but the request does not include "
    "a client secret.", oauth_error="invalid_client")
CLIENT_ASSERTION_SIGNATURE_INVALID = _action(
    "A157326", "The signature of the JWT for client authentication is invalid: {reason}.",
    oauth_error="invalid_client")
CLIENT_AUTH_METHOD_UNSUPPORTED = _action(
    "A157344", "The client authentication method '{method}' is not supported by this service "
    "(supportedTokenAuthMethods: {supported}).", oauth_error="invalid_client")
CLIENT_AUTH_CLIENT_ID_MISSING = _action(
    "A157360", "The request does not identify the client: it has no 'client_id' parameter, no "
    "HTTP Basic credentials and no client assertion naming a 'sub' (RFC 6749 §2.3).",
    oauth_error="invalid_client")
CLIENT_AUTH_CLIENT_ID_CONFLICT = _action(
    "A157361", "The client ID in the HTTP Basic credentials ('{basic}') differs from the "
    "'client_id' parameter ('{body}'); a request names one client (RFC 6749 §2.3.1).",
    oauth_error="invalid_client")
CLIENT_ASSERTION_SUBJECT_CONFLICT = _action(
    "A157362", "The client assertion's '{claim}' claim ('{subject}') differs from the client ID "
    "'{client_id}' given by {source} (RFC 7523 §3).", oauth_error="invalid_client")
CLIENT_AUTH_IDENTIFIER_REJECTED = _action(
    "A157363", "'{identifier}' does not identify the client (ID = {client_id}): {reason}.",
    oauth_error="invalid_client")
CLIENT_AUTH_MULTIPLE_METHODS = _action(
    "A157364", "The request uses more than one client authentication method ({methods}); a "
    "client must use only one (RFC 6749 §2.3).", oauth_error="invalid_client")
CLIENT_ASSERTION_PARAMETER_MISSING = _action(
    "A157365", "'{present}' is present but '{missing}' is missing; a client assertion needs both "
    "(RFC 7521 §4.2).", oauth_error="invalid_client")
CLIENT_ASSERTION_TYPE_UNSUPPORTED = _action(
    "A157366", "'client_assertion_type' is '{value}'; the only supported type is '{expected}' "
    "(RFC 7523 §2.2).", oauth_error="invalid_client")
CLIENT_ASSERTION_MALFORMED = _action(
    "A157367", "'client_assertion' is not a signed JWT in JWS compact serialization: {reason}.",
    oauth_error="invalid_client")
CLIENT_ASSERTION_UNSIGNED = _action(
    "A157368", "The client assertion has 'alg' = '{alg}'; it must be signed (RFC 7523 §3 "
    "item 9).", oauth_error="invalid_client")
CLIENT_ASSERTION_ALG_UNSUPPORTED = _action(
    "A157369", "The client assertion's 'alg' '{alg}' is not supported; use one of {supported}.",
    oauth_error="invalid_client")
CLIENT_AUTH_METHOD_NOT_REGISTERED = _action(
    "A157370", "The request uses the client authentication method '{method}' but the client "
    "(ID = {client_id}) registered '{registered}' as its 'tokenAuthMethod'.",
    oauth_error="invalid_client")
CLIENT_ASSERTION_ALG_NOT_REGISTERED = _action(
    "A157371", "The client assertion is signed with '{alg}' but the client (ID = {client_id}) "
    "registered 'tokenAuthSignAlg' = '{registered}'.", oauth_error="invalid_client")
CLIENT_AUTH_SECRET_MISMATCH = _action(
    "A157372", "The client secret presented with '{method}' does not match the secret of the "
    "client (ID = {client_id}).", oauth_error="invalid_client")
CLIENT_AUTH_NO_SECRET = _action(
    "A157373", "The client (ID = {client_id}) has no client secret, so '{method}' cannot "
    "succeed.", oauth_error="invalid_client")
CLIENT_ASSERTION_SECRET_TOO_SHORT = _action(
    "A157374", "'{alg}' needs a key of at least {required} bytes but the client secret of the "
    "client (ID = {client_id}) has {length} (RFC 7518 §3.2).", oauth_error="invalid_client")
CLIENT_ASSERTION_NO_KEYS = _action(
    "A157375", "The client (ID = {client_id}) registered neither 'jwks' nor 'jwksUri', so its "
    "'{alg}' client assertion cannot be verified.", oauth_error="invalid_client")
CLIENT_ASSERTION_JWKS_UNAVAILABLE = _action(
    "A157376", "The client's JWK Set at 'jwksUri' = '{uri}' could not be obtained: {reason}.",
    oauth_error="invalid_client")
CLIENT_ASSERTION_JWKS_INVALID = _action(
    "A157377", "The client's JWK Set (from '{source}') is unusable: {reason}.",
    oauth_error="invalid_client")
CLIENT_ASSERTION_KEY_NOT_FOUND = _action(
    "A157378", "No key in the client's JWK Set fits the client assertion (kid = {kid}, alg = "
    "{alg}): {reason}.", oauth_error="invalid_client")
CLIENT_ASSERTION_CLAIM_MISSING = _action(
    "A157379", "The client assertion has no '{claim}' claim, which {rule}.",
    oauth_error="invalid_client")
CLIENT_ASSERTION_CLAIM_MALFORMED = _action(
    "A157380", "The client assertion's '{claim}' claim ({value}) is not {expected}.",
    oauth_error="invalid_client")
CLIENT_ASSERTION_ISSUER_INVALID = _action(
    "A157381", "The client assertion's '{claim}' claim is '{value}' but must be the client's "
    "identifier ({expected}) (RFC 7523 §3, OIDC Core §9).", oauth_error="invalid_client")
CLIENT_ASSERTION_ISSUER_SUBJECT_DIFFER = _action(
    "A157382", "The client assertion's 'iss' ('{iss}') and 'sub' ('{sub}') differ; for client "
    "authentication both are the client ID (RFC 7523 §3, OIDC Core §9).",
    oauth_error="invalid_client")
CLIENT_ASSERTION_AUDIENCE_INVALID = _action(
    "A157383", "The client assertion's 'aud' claim ({aud}) names neither the token endpoint nor "
    "the issuer ({expected}) (RFC 7523 §3 item 3).", oauth_error="invalid_client")
CLIENT_ASSERTION_EXPIRED = _action(
    "A157384", "The client assertion has expired: 'exp' = {exp}, current time = {now}, clock "
    "skew = {skew} s (RFC 7523 §3 item 4).", oauth_error="invalid_client")
CLIENT_ASSERTION_NOT_YET_VALID = _action(
    "A157385", "The client assertion's '{claim}' claim ({value}) is in the future: current time "
    "= {now}, clock skew = {skew} s (RFC 7523 §3 items 5, 6).", oauth_error="invalid_client")
CLIENT_ASSERTION_LIFETIME_TOO_LONG = _action(
    "A157386", "The client assertion expires too far in the future: 'exp' = {exp} is more than "
    "{limit} s after the current time {now} (RFC 7523 §3 item 4).", oauth_error="invalid_client")
CLIENT_ASSERTION_REPLAYED = _action(
    "A157387", "The client assertion with 'jti' = '{jti}' has already been used; an assertion "
    "is good for one request (RFC 7523 §3 item 7, OIDC Core §9).", oauth_error="invalid_client")

# --- Token endpoint (groups 047-054; RFC 6749 §4.3, §4.4, §5.2, §6) ---------------------------
ACCESS_TOKEN_KEY_MISSING = _action(
    "A047101", "No current signing key exists for '{alg}'; the JWT access token cannot be "
    "signed.")
PROPERTIES_INVALID = _action(
    "A050201", "'properties' in the request from the service is unusable: {reason}.")
TOKEN_PARAMETERS_MISSING = _action(
    "A049201", "The /auth/token request from the service does not contain 'parameters'.")
TOKEN_PARAMETER_DUPLICATED = _action(
    "A049302", "The token request contains '{name}' more than once (RFC 6749 §3.2).",
    "invalid_request")
TOKEN_GRANT_TYPE_MISSING = _action(
    "A049301", "The token request does not contain 'grant_type' parameter.", "invalid_request")
TOKEN_GRANT_TYPE_UNKNOWN = _action(
    "A049303", "'{grant_type}' is not a grant type this server knows.", "unsupported_grant_type")
TOKEN_GRANT_TYPE_NOT_SUPPORTED = _action(
    "A049305", "This service does not support the grant_type '{grant_type}'.",
    "unsupported_grant_type")
TOKEN_GRANT_TYPE_NOT_DECLARED = _action(
    "A047302", "The client (ID = {client_id}) has not declared that it uses the grant type "
    "'{grant_type}'.", "unauthorized_client")
TOKEN_CLIENT_UNKNOWN = _action(
    "A047303", "No client of this service has the identifier '{identifier}'.", "invalid_client")
TOKEN_CLIENT_LOCKED = _action(
    "A047304", "The client (ID = {client_id}) is locked.", "invalid_client")
TOKEN_SCOPE_UNKNOWN = _action(
    "A047305", "The scope '{scope}' is not supported by this service or may not be requested by "
    "the client.", "invalid_scope")
CLIENT_CREDENTIALS_ISSUED = _action(
    "A052001", "The token request (grant_type=client_credentials) was processed successfully.")
CLIENT_CREDENTIALS_PUBLIC_CLIENT = _action(
    "A052301", "Public clients are not allowed to use 'grant_type=client_credentials'.",
    "unauthorized_client")
REFRESH_ISSUED = _action(
    "A053001", "The token request (grant_type=refresh_token) was processed successfully.")
REFRESH_TOKEN_MISSING = _action(
    "A053301", "The token request does not contain 'refresh_token' parameter.",
    "invalid_request")
REFRESH_TOKEN_UNKNOWN = _action(
    "A053305", "The refresh token passed to the token endpoint does not exist.", "invalid_grant")
REFRESH_TOKEN_OTHER_CLIENT = _action(
    "A053307", "The refresh token was not issued to the client (ID = {client_id}).",
    "invalid_grant")
REFRESH_TOKEN_EXPIRED = _action(
    "A053308", "The refresh token has already expired.", "invalid_grant")
REFRESH_SCOPE_WIDENED = _action(
    "A053309", "The value of 'scope' contains '{scope}', which the original grant does not "
    "cover (RFC 6749 §6).", "invalid_scope")
REFRESH_TOKEN_REUSED = _action(
    "A053310", "The refresh token had already been used; every token of its grant has been "
    "revoked (RFC 9700 §4.14.2).", "invalid_grant")
PASSWORD_TICKET_ISSUED = _action(
    "A051001", "A ticket was issued for the token request (grant_type=password) of the client "
    "(ID = {client_id}); authenticate the resource owner, then call /auth/token/issue or "
    "/auth/token/fail.")
PASSWORD_PARAMETER_MISSING = _action(
    "A051301", "The token request (grant_type=password) does not contain '{name}'.",
    "invalid_request")
PASSWORD_ISSUED = _action(
    "A054001", "The token request (grant_type=password) was processed successfully.")
TOKEN_TICKET_MISSING = _action(
    "A054201", "The value of 'ticket' in the {api} request is null or empty.")
TOKEN_SUBJECT_MISSING = _action(
    "A054202", "The value of 'subject' in the /auth/token/issue request is null or empty.")
TOKEN_TICKET_UNKNOWN = _action(
    "A054203", "The ticket is unknown, expired or already used.")
TOKEN_FAIL_REASON_INVALID = _action(
    "A054204", "'{reason}' is not a reason /auth/token/fail accepts.")
PASSWORD_CREDENTIALS_INVALID = _action(
    "A067301", "The credentials (username & password) passed to the token endpoint are "
    "invalid.", "invalid_grant")
TOKEN_FAIL_UNKNOWN = _action(
    "A067302", "The token request could not be processed.", "server_error")
TOKEN_FAIL_INVALID_TARGET = _action(
    "A067303", "The requested resource is not acceptable.", "invalid_target")

# --- Revocation (groups 113-116; RFC 7009) -------------------------------------------------
TOKEN_REVOKED = _action("A113001", "The token has been revoked (or was not valid: RFC 7009 §2.2).")
REVOCATION_PARAMETERS_MISSING = _action(
    "A115201", "The /auth/revocation request from the service does not contain 'parameters'.")
REVOCATION_TOKEN_MISSING = _action(
    "A115301", "The revocation request does not contain 'token' parameter.", "invalid_request")

# --- Authorization request (groups 004-014, 124, 150; RFC 6749 §4.1.1, OIDC Core §3.1.2) ---
# Reference numbers where the meaning matches; Tessera's own serials start at 60, clear of the
# published ones. A failure found before the client and its redirect URI are trusted is answered
# with BAD_REQUEST (RFC 6749 §4.1.2.1: never redirect to an unverified URI); later ones go back
# to the client (LOCATION / FORM) carrying the OAuth `error` given here.
AUTHZ_PARAMETERS_MISSING = _action(
    "A004201", "The authorization request from the service does not contain 'parameters'.",
    oauth_error="server_error")
AUTHZ_PARAMETERS_EMPTY = _action(
    "A004301", "The authorization request does not contain any request parameters.",
    oauth_error="invalid_request")
AUTHZ_RESPONSE_TYPE_NEEDS_OPENID = _action(
    "A004302", "The response type '{response_type}' returns an ID token, so 'scope' must "
    "contain 'openid' (OIDC Core §3.1.2.1).", oauth_error="invalid_request")
AUTHZ_OFFLINE_ACCESS_NEEDS_CONSENT = _action(
    "A004303", "'offline_access' is in 'scope', so 'prompt' must explicitly include 'consent' "
    "(OIDC Core §11).", oauth_error="invalid_request")
AUTHZ_PARAMETER_REPEATED = _action(
    "A004360", "The parameter '{name}' appears {count} times; a request parameter must not be "
    "included more than once (RFC 6749 §3.1).", oauth_error="invalid_request")
AUTHZ_REQUEST_OBJECT_UNSUPPORTED = _action(
    "A004361", "The 'request' parameter is not supported: this server does not process request "
    "objects (OIDC Core §6.1, RFC 9101).", oauth_error="request_not_supported")
AUTHZ_REQUEST_URI_UNSUPPORTED = _action(
    "A004362", "The 'request_uri' parameter is not supported: this server processes neither "
    "request objects by reference nor pushed authorization requests (OIDC Core §6.2, "
    "RFC 9126).", oauth_error="request_uri_not_supported")
AUTHZ_RESPONSE_MODE_UNKNOWN = _action(
    "A004363", "The 'response_mode' value '{value}' is not supported; use 'query', 'fragment' "
    "or 'form_post'.", oauth_error="invalid_request")
AUTHZ_RESPONSE_MODE_JWT_UNSUPPORTED = _action(
    "A004364", "The JWT-secured response mode '{value}' (JARM) is not supported; use 'query', "
    "'fragment' or 'form_post'.", oauth_error="invalid_request")
AUTHZ_RESPONSE_MODE_QUERY_FORBIDDEN = _action(
    "A004365", "'response_mode=query' cannot carry the response of response type "
    "'{response_type}', which includes tokens; use 'fragment' or 'form_post' (OAuth 2.0 "
    "Multiple Response Types §5).", oauth_error="invalid_request")
AUTHZ_PROMPT_UNSUPPORTED = _action(
    "A004366", "The 'prompt' value '{value}' is not supported; supported values are "
    "{supported} (OIDC Core §3.1.2.1).", oauth_error="invalid_request")
AUTHZ_PROMPT_NONE_NOT_ALONE = _action(
    "A004367", "'prompt' contains 'none' together with '{others}'; 'none' must be the only "
    "value (OIDC Core §3.1.2.1).", oauth_error="invalid_request")
AUTHZ_MAX_AGE_INVALID = _action(
    "A004368", "The 'max_age' value '{value}' is not a whole number of seconds between 0 and "
    "2147483647 (OIDC Core §3.1.2.1).", oauth_error="invalid_request")
AUTHZ_MAX_AGE_ZERO_WITH_PROMPT_NONE = _action(
    "A004372", "'max_age' is 0, which requires a fresh login, but 'prompt' is 'none', which "
    "forbids one (OIDC Core §3.1.2.1, §3.1.2.6).", oauth_error="login_required")
AUTHZ_DISPLAY_UNSUPPORTED = _action(
    "A004369", "The 'display' value '{value}' is not supported; supported values are "
    "{supported} (OIDC Core §3.1.2.1).", oauth_error="invalid_request")
AUTHZ_CLAIMS_INVALID = _action(
    "A004370", "The 'claims' parameter is not a valid claims request: {reason} (OIDC Core "
    "§5.5).", oauth_error="invalid_request")
AUTHZ_RESOURCE_INVALID = _action(
    "A004371", "The 'resource' value '{value}' is not an absolute URI without a fragment "
    "(RFC 8707 §2).", oauth_error="invalid_target")
AUTHZ_SCOPE_MISSING = _action(
    "A007305", "The request names no scope this client may use (requested: {requested}) and "
    "the service has no default scope, but the service requires at least one scope.",
    oauth_error="invalid_scope")
AUTHZ_RESPONSE_TYPE_MISSING = _action(
    "A009301", "The authorization request does not contain 'response_type' (RFC 6749 §3.1.1).",
    oauth_error="invalid_request")
AUTHZ_RESPONSE_TYPE_UNSUPPORTED = _action(
    "A009305", "The response type '{response_type}' is not supported by this service.",
    oauth_error="unsupported_response_type")
AUTHZ_RESPONSE_TYPE_NOT_DECLARED = _action(
    "A009306", "The client (ID = {client_id}) does not declare it uses the response type "
    "'{response_type}'.", oauth_error="unauthorized_client")
AUTHZ_RESPONSE_TYPE_UNKNOWN = _action(
    "A009360", "The 'response_type' value '{value}' is not a known response type (RFC 6749 "
    "§3.1.1, OAuth 2.0 Multiple Response Types §3-§5).", oauth_error="unsupported_response_type")
AUTHZ_CLIENT_ID_MISSING = _action(
    "A010301", "The authorization request does not contain 'client_id' (RFC 6749 §4.1.1).",
    oauth_error="invalid_request")
AUTHZ_CLIENT_UNKNOWN = _action(
    "A010304", "No client of this service has the client ID or alias '{client_id}'.",
    oauth_error="invalid_client")
AUTHZ_CLIENT_LOCKED = _action(
    "A010307", "The client (ID = {client_id}) is locked.", oauth_error="invalid_client")
AUTHZ_REDIRECT_URI_REQUIRED_FOR_OPENID = _action(
    "A011303", "'redirect_uri' must be given explicitly because 'scope' contains 'openid' (OIDC "
    "Core §3.1.2.1).", oauth_error="invalid_request")
AUTHZ_REDIRECT_URI_NOT_REGISTERED = _action(
    "A011304", "The 'redirect_uri' value '{redirect_uri}' is not registered for the client "
    "(ID = {client_id}) (RFC 6749 §3.1.2.3).", oauth_error="invalid_request")
AUTHZ_REDIRECT_URI_NOT_HTTPS = _action(
    "A011305", "The redirect URI '{redirect_uri}' must use 'https' because the 'web' client "
    "requests the response type '{response_type}', which returns tokens in the front channel "
    "(OIDC Registration §2).", oauth_error="invalid_request")
AUTHZ_REDIRECT_URI_LOCALHOST = _action(
    "A011306", "The host of the redirect URI '{redirect_uri}' must not be localhost because the "
    "'web' client requests the response type '{response_type}', which returns tokens in the "
    "front channel (OIDC Registration §2).", oauth_error="invalid_request")
AUTHZ_REDIRECT_URI_AMBIGUOUS = _action(
    "A011313", "'redirect_uri' is required because the client (ID = {client_id}) has registered "
    "{count} redirect URIs (RFC 6749 §3.1.2.3).", oauth_error="invalid_request")
AUTHZ_REDIRECT_URI_HAS_FRAGMENT = _action(
    "A011316", "The 'redirect_uri' value '{redirect_uri}' has a fragment component (RFC 6749 "
    "§3.1.2).", oauth_error="invalid_request")
AUTHZ_REDIRECT_URI_NONE_REGISTERED = _action(
    "A011360", "The client (ID = {client_id}) has registered no redirect URI, so the response "
    "has nowhere to go (RFC 6749 §3.1.2.2).", oauth_error="invalid_request")
AUTHZ_NONCE_MISSING = _action(
    "A014303", "'nonce' is required because the response type '{response_type}' returns an ID "
    "token (OIDC Core §3.2.2.1, §3.3.2.11).", oauth_error="invalid_request")
AUTHZ_CODE_CHALLENGE_MISSING = _action(
    "A124301", "The authorization request does not contain 'code_challenge', which {requirer} "
    "requires (RFC 7636 §4.3).", oauth_error="invalid_request")
AUTHZ_CODE_CHALLENGE_METHOD_UNSUPPORTED = _action(
    "A124306", "The 'code_challenge_method' value '{value}' is not supported; use 'S256' or "
    "'plain' (RFC 7636 §4.3).", oauth_error="invalid_request")
AUTHZ_CODE_CHALLENGE_METHOD_S256_MISSING = _action(
    "A124307", "'code_challenge_method=S256' must be explicitly included because {requirer} "
    "requires S256; a missing method means 'plain' (RFC 7636 §4.3).",
    oauth_error="invalid_request")
AUTHZ_CODE_CHALLENGE_METHOD_NOT_S256 = _action(
    "A124308", "The 'code_challenge_method' value must be 'S256', not '{value}', because "
    "{requirer} requires S256.", oauth_error="invalid_request")
AUTHZ_CODE_CHALLENGE_MALFORMED = _action(
    "A124360", "The 'code_challenge' value ({length} characters) is not 43 to 128 characters "
    "of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 §4.2).", oauth_error="invalid_request")
AUTHZ_CODE_CHALLENGE_METHOD_ALONE = _action(
    "A124361", "'code_challenge_method' is given without 'code_challenge' (RFC 7636 §4.3).",
    oauth_error="invalid_request")
AUTHZ_REQUEST_OBJECT_REQUIRED = _action(
    "A150301", "A request object is required by {requirer}, and this server does not process "
    "request objects yet (RFC 9101).", oauth_error="invalid_request")
AUTHZ_PAR_REQUIRED = _action(
    "A150360", "Pushed authorization requests are required by {requirer}, and this server does "
    "not process them yet (RFC 9126 §5).", oauth_error="invalid_request")

# --- UserInfo (groups 089-096; OpenID Connect Core §5.3) -----------------------------------
USERINFO_OK = _action(
    "A091001", "The access token presented at the userinfo endpoint is valid.")
USERINFO_TOKEN_MISSING = _action(
    "A091201", "The userinfo request does not contain 'token'.", "invalid_request")
USERINFO_OPENID_MISSING = _action(
    "A089304", "The userinfo endpoint requires the 'openid' scope, but the access token does "
    "not cover it.", "insufficient_scope")
USERINFO_ISSUED = _action("A096001", "User information was built successfully.")
USERINFO_CLAIMS_INVALID = _action(
    "A096201", "'claims' of the /auth/userinfo/issue request is not a JSON object: {reason}.")
USERINFO_KEY_MISSING = _action(
    "A096101", "No current signing key exists for '{alg}'; the signed userinfo response "
    "cannot be built.")

# --- Authorization issue / fail / ticket (groups 004, 040-046, 059-061; reference §2.1) -----
ID_TOKEN_HINT_INVALID = _action(
    "A004380", "'id_token_hint' is not an ID token this server issued to the client: {reason}.",
    "invalid_request")
AUTHORIZATION_TICKET_ISSUED = _action(
    "A004001", "A ticket was issued for the authorization request of the client (ID = "
    "{client_id}) [response_type={response_type}, openid={openid}].")
AUTHORIZATION_ISSUED = _action("A040001", "The authorization request was processed successfully.")
AUTHORIZATION_TICKET_MISSING = _action(
    "A041201", "The value of 'ticket' in the {api} request is null or empty.")
AUTHORIZATION_TICKET_UNKNOWN = _action(
    "A041202", "The ticket is unknown, expired or already used.", "invalid_request")
AUTHORIZATION_SUBJECT_MISSING = _action(
    "A042201", "The value of 'subject' in the /auth/authorization/issue request is null or "
    "empty.")
AUTHORIZATION_ISSUE_VALUE_INVALID = _action(
    "A042202", "The value of '{key}' in the /auth/authorization/issue request is invalid: "
    "{reason}.")
AUTHORIZATION_KEY_MISSING = _action(
    "A042101", "No current signing key exists for '{alg}'; the ID token cannot be signed.")
AUTHORIZATION_FAIL_REASON_MISSING = _action(
    "A060201", "The /auth/authorization/fail request does not contain a known 'reason' "
    "('{reason}').")
AUTHORIZATION_FAILED = _action(
    "A061301", "The authorization request was refused: {reason}.", "access_denied")
TICKET_INFO_OK = _action("A061001", "The ticket information was returned.")
TICKET_UPDATED = _action("A061002", "The ticket information was updated.")
# RFC 6749 §4.1.3 at the token endpoint.
CODE_ISSUED_TOKENS = _action(
    "A050001", "The token request (grant_type=authorization_code) was processed successfully.")
CODE_MISSING = _action(
    "A050301", "The token request does not contain 'code' parameter.", "invalid_request")
CODE_UNKNOWN = _action("A050305", "No such authorization code.", "invalid_grant")
CODE_REUSED = _action(
    "A050306", "The authorization code has already been used; the tokens issued with it have "
    "been revoked (RFC 6749 Section 4.1.2).", "invalid_grant")
CODE_OTHER_CLIENT = _action(
    "A050307", "The authorization code does not belong to the client.", "invalid_grant")
CODE_REDIRECT_URI_MISMATCH = _action(
    "A050309", "The redirect URI contained in the token request does not match the one which "
    "was specified when the authorization code was created.", "invalid_grant")
CODE_EXPIRED = _action("A050311", "The authorization code has already expired.", "invalid_grant")
CODE_VERIFIER_MISSING = _action(
    "A050312", "The token request does not contain 'code_verifier' although the authorization "
    "code was created with 'code_challenge'.", "invalid_grant")
CODE_VERIFIER_MALFORMED = _action(
    "A050313", "'code_verifier' must be 43 to 128 unreserved characters (RFC 7636 Section "
    "4.1).", "invalid_grant")
CODE_VERIFIER_MISMATCH = _action(
    "A050315", "The code challenge value computed with 'code_verifier' is different from "
    "'code_challenge' contained in the authorization request.", "invalid_grant")

# --- Standard introspection (group 145; RFC 7662, RFC 9701) ------------------------------------
STANDARD_INTROSPECTION_OK = _action(
    "A145001", "Introspection was performed successfully (type={type}, active={active}).")
STANDARD_INTROSPECTION_KEY_MISSING = _action(
    "A145101", "No current signing key exists for {alg}; the JWT introspection response "
    "cannot be signed (RFC 9701 §5).", "server_error")
STANDARD_INTROSPECTION_PARAMETERS_MISSING = _action(
    "A145201", "The /auth/introspection/standard request from the service does not contain "
    "'parameters'.", "server_error")
STANDARD_INTROSPECTION_SIGN_ALG_UNSUPPORTED = _action(
    "A145202", "'introspectionSignAlg' = '{alg}' is not supported: introspection responses "
    "are signed with one of the service's asymmetric keys (RS*, PS*, ES*), never with 'none' "
    "or a shared secret.", "server_error")
STANDARD_INTROSPECTION_ENCRYPTION_UNSUPPORTED = _action(
    "A145203", "'introspectionEncryptionAlg' = '{alg}' was requested, but encrypted "
    "introspection responses (RFC 9701 §5, JWE) are not supported; nothing is sent "
    "unencrypted in its place.", "server_error")
STANDARD_INTROSPECTION_TOKEN_MISSING = _action(
    "A145302", "The 'token' request parameter is missing (RFC 7662 §2.1).", "invalid_request")
STANDARD_INTROSPECTION_PARAMETER_DUPLICATED = _action(
    "A145303", "The introspection request contains '{name}' more than once; a request "
    "parameter must not be included more than once (RFC 6749 §3.1).", "invalid_request")

# --- Granted scopes and client authorizations (groups 137-140) -------------------------------
CLIENT_AUTHORIZATION_DELETED = _define(
    "A137001", "Deleted {count} access token(s) issued to the client (ID = {client_id}) of the "
    "service (API Key = {api_key}).")
GRANT_SUBJECT_MISSING = _define(
    "A137201", "{path}, the request does not name the end-user: give 'subject' in the body, the "
    "query or the path.", 400)
CLIENT_AUTHORIZATION_UPDATED = _define(
    "A138001", "Updated {count} access token(s) issued to the client (ID = {client_id}) of the "
    "service (API Key = {api_key}).")
GRANTED_SCOPES_FOUND = _define(
    "A139001", "The scopes granted by the subject to the client (ID = {client_id}) were found.")
GRANTED_SCOPES_DELETED = _define(
    "A139002", "The record of the scopes granted by the subject to the client (ID = "
    "{client_id}) was deleted; existing tokens keep their scopes.")
GRANTED_SCOPES_NONE = _define(
    "A140001", "The subject has not granted any scope to the client (ID = {client_id}) yet.")

# --- Tessera's own operations (group 900+) -----------------------------------------------------
KEYS_ROTATED = _define(
    "A900001", "Key rotation for the service (API Key = {api_key}): rotated {rotated}; "
    "pending {pending}.")
ACTOR_UNAVAILABLE = _define(
    "A900101", "{path}, an internal component did not answer in time; retry later.", 503)


def lookup(code: str) -> ResultCode:
    return CATALOG[code]
