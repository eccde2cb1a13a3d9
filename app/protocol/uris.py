"""URI checks shared by Service and Client validation (RFC 3986, RFC 6749 §3.1.2, RFC 8252 §7)."""

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def problem_with_url(value: str, *, https_only: bool, allow_query: bool = True) -> str | None:
    """Why `value` is not an acceptable absolute http(s) URL, or None when it is."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "is not an absolute http(s) URL"
    if parts.scheme == "http" and https_only and not is_loopback(parts.hostname):
        return "must use https (http is accepted only for localhost)"
    if parts.fragment or value.endswith("#"):
        return "must not have a fragment component"
    if parts.query and not allow_query:
        return "must not have a query component"
    return None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(value: str) -> str | None:
    try:
        return urlsplit(value).hostname
    except ValueError:
        return None
