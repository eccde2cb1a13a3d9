"""What follows an issue of tokens to a client for an end-user (reference §2.12, §3): the scopes
the user granted are recorded (latest and merged, for `/client/granted_scopes/get`), and under
`singleAccessTokenPerSubject` the user's older access tokens of the client are revoked.

Refresh never comes here: it replaces the access token coupled with the refresh token, which
keeps one access token per grant already.
"""

from app.protocol.ports import AccessTokenRecord, ClientRecord, ServiceRecord

# Grants where the end-user approved the scopes (consent, credentials, a CIBA or device
# authentication). A token exchange or a JWT assertion carries no fresh consent of the user.
CONSENTED_GRANTS = frozenset({"AUTHORIZATION_CODE", "IMPLICIT", "PASSWORD", "CIBA",
                              "DEVICE_CODE"})


async def after_tokens_issued(ports, service: ServiceRecord, client: ClientRecord,
                              access: AccessTokenRecord) -> None:
    """`ports` has `tokens`, `now_ms` and `granted_scopes` (None: nothing is recorded)."""
    if access.subject is None:
        return  # client credentials: no end-user, nothing granted, nothing to replace
    if access.grant_type in CONSENTED_GRANTS and ports.granted_scopes is not None:
        await ports.granted_scopes.record(service.api_key, access.client_id, access.subject,
                                          list(access.scopes), ports.now_ms)
    if single_access_token_per_subject(service, client):
        await ports.tokens.revoke_others(service.api_key, access.client_id, access.subject,
                                         access.digest)


def single_access_token_per_subject(service: ServiceRecord, client: ClientRecord) -> bool:
    """Reference §3: the service's flag or the client's, either suffices."""
    return bool(service.document.get("singleAccessTokenPerSubject")
                or client.document.get("singleAccessTokenPerSubject"))
