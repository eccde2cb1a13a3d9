"""Authorization responses: query and fragment encoding (RFC 6749 §4.1.2, §4.2.2), the form_post
page (OAuth 2.0 Form Post Response Mode §2), and error results with `iss` (RFC 9207 §2)."""

import json
from html.parser import HTMLParser

import pytest

from app.protocol import result_codes as rc
from app.protocol.authorization_response import (
    Redirection,
    error_result,
    form_post_page,
    redirect_location,
)

SERVICE = {"issuer": "https://as.example.com"}


@pytest.mark.parametrize(("redirect_uri", "mode", "params", "expected"), [
    ("https://client.example.org/cb", "query", {"code": "SplxlOBeZQQYbYS6WxSbIA", "state": "xyz"},
     "https://client.example.org/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz"),
    ("https://client.example.org/cb?tenant=7", "query", {"code": "abc"},
     "https://client.example.org/cb?tenant=7&code=abc"),
    ("https://client.example.org/cb?", "query", {"code": "abc"},
     "https://client.example.org/cb?code=abc"),
    ("https://client.example.org/cb", "query", {"state": "a b&c=d/é"},
     "https://client.example.org/cb?state=a+b%26c%3Dd%2F%C3%A9"),
    ("https://client.example.org/cb", "query", {}, "https://client.example.org/cb"),
    ("https://client.example.org/cb", "fragment",
     {"access_token": "2YotnFZFEjr1zCsicMWpAA", "token_type": "example", "expires_in": "3600"},
     "https://client.example.org/cb#access_token=2YotnFZFEjr1zCsicMWpAA&token_type=example"
     "&expires_in=3600"),
    ("https://client.example.org/cb?tenant=7", "fragment", {"id_token": "eyJ.x.y"},
     "https://client.example.org/cb?tenant=7#id_token=eyJ.x.y"),
    ("com.example.app:/oauth2redirect", "query", {"code": "abc"},
     "com.example.app:/oauth2redirect?code=abc"),
], ids=["query", "query-kept", "query-empty-kept", "query-escaped", "query-no-params",
        "fragment", "fragment-after-query", "private-use-scheme"])
def test_redirect_location(redirect_uri, mode, params, expected):
    assert redirect_location(redirect_uri, mode, params) == expected


def test_redirect_location_refuses_form_post():
    with pytest.raises(ValueError, match="form_post"):
        redirect_location("https://client.example.org/cb", "form_post", {"code": "abc"})


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.inputs: list[dict] = []
        self.onload: str | None = None
        self.open: list[str] = []
        self.noscript_buttons = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body":
            self.onload = attributes.get("onload")
        elif tag == "form":
            self.forms.append(attributes)
        elif tag == "input":
            self.inputs.append(attributes)
        elif tag == "button" and "noscript" in self.open:
            self.noscript_buttons += attributes.get("type") == "submit"
        self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]


def test_form_post_page_posts_every_parameter():
    page = form_post_page("https://client.example.org/cb", {
        "code": "SplxlOBeZQQYbYS6WxSbIA", "state": "DcP7csa3hMlvybERqcieLHrRzKBra"})
    parsed = _Page()
    parsed.feed(page)
    assert page.startswith("<!DOCTYPE html>")
    assert parsed.forms == [{"method": "post", "action": "https://client.example.org/cb"}]
    assert parsed.inputs == [
        {"type": "hidden", "name": "code", "value": "SplxlOBeZQQYbYS6WxSbIA"},
        {"type": "hidden", "name": "state", "value": "DcP7csa3hMlvybERqcieLHrRzKBra"}]
    assert parsed.onload == "document.forms[0].submit()"
    assert parsed.noscript_buttons == 1  # works without JavaScript


def test_form_post_page_escapes_values():
    hostile = '"><script>alert(1)</script>'
    page = form_post_page("https://client.example.org/cb?a=1&b=2", {"state": hostile})
    parsed = _Page()
    parsed.feed(page)
    assert "<script>" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert parsed.forms[0]["action"] == "https://client.example.org/cb?a=1&b=2"
    assert parsed.inputs[0]["value"] == hostile


QUERY = Redirection("https://client.example.org/cb", "query", "xyz")


def test_error_result_location():
    result = error_result(QUERY, rc.AUTHZ_RESPONSE_TYPE_MISSING, SERVICE)
    assert result.body() == {
        "resultCode": "A009301",
        "resultMessage": "[A009301] The authorization request does not contain 'response_type' "
                         "(RFC 6749 §3.1.1).",
        "action": "LOCATION",
        "responseContent": "https://client.example.org/cb?error=invalid_request&error_description="
                           "%5BA009301%5D+The+authorization+request+does+not+contain+%27response"
                           "_type%27+%28RFC+6749+Section+3.1.1%29.&state=xyz"
                           "&iss=https%3A%2F%2Fas.example.com",
    }


def test_error_result_fragment_without_state():
    result = error_result(Redirection("https://client.example.org/cb", "fragment", None),
                          rc.AUTHZ_RESPONSE_TYPE_UNSUPPORTED, {}, response_type="token")
    assert result.action == "LOCATION"
    assert result.response_content == (
        "https://client.example.org/cb#error=unsupported_response_type&error_description="
        "%5BA009305%5D+The+response+type+%27token%27+is+not+supported+by+this+service.")


def test_error_result_form():
    target = Redirection("https://client.example.org/cb", "form_post", "xyz")
    result = error_result(target, rc.AUTHZ_SCOPE_MISSING, SERVICE, requested="none")
    parsed = _Page()
    parsed.feed(result.response_content)
    assert result.action == "FORM"
    assert {i["name"]: i["value"] for i in parsed.inputs} == {
        "error": "invalid_scope",
        "error_description": "[A007305] The request names no scope this client may use "
                             "(requested: none) and the service has no default scope, but the "
                             "service requires at least one scope.",
        "state": "xyz", "iss": "https://as.example.com"}


@pytest.mark.parametrize(("service", "expected"), [
    ({**SERVICE, "issSuppressed": True}, {"error": "invalid_request", "state": "xyz",
                                          "error_description": "[A014303] 'nonce' is required "
                                          "because the response type 'id_token' returns an ID "
                                          "token (OIDC Core Section 3.2.2.1, Section 3.3.2.11)."}),
    ({**SERVICE, "errorDescriptionOmitted": True},
     {"error": "invalid_request", "state": "xyz", "iss": "https://as.example.com"}),
], ids=["iss-suppressed", "description-omitted"])
def test_error_result_shaping(service, expected):
    target = Redirection("https://client.example.org/cb", "form_post", "xyz")
    result = error_result(target, rc.AUTHZ_NONCE_MISSING, service, response_type="id_token")
    parsed = _Page()
    parsed.feed(result.response_content)
    assert {i["name"]: i["value"] for i in parsed.inputs} == expected


def test_error_description_stays_within_the_allowed_characters():
    """RFC 6749 §4.1.2.1: error_description excludes '"', '\\' and non-ASCII characters."""
    result = error_result(None, rc.AUTHZ_PARAMETER_REPEATED, SERVICE, name='sc"o\\pé', count=2)
    assert json.loads(result.response_content) == {
        "error": "invalid_request",
        "error_description": "[A004360] The parameter 'sc'o/p?' appears 2 times; a request "
                             "parameter must not be included more than once (RFC 6749 Section "
                             "3.1)."}
    assert result.body()["resultMessage"].startswith("[A004360] The parameter 'sc\"o\\pé'")


@pytest.mark.parametrize(("code", "params", "action", "error"), [
    (rc.AUTHZ_CLIENT_UNKNOWN, {"client_id": "42"}, "BAD_REQUEST", "invalid_client"),
    (rc.AUTHZ_PARAMETERS_MISSING, {}, "INTERNAL_SERVER_ERROR", "server_error"),
], ids=["client-error", "caller-error"])
def test_error_result_without_redirect_is_json(code, params, action, error):
    result = error_result(None, code, SERVICE, **params)
    assert result.action == action
    assert json.loads(result.response_content) == {
        "error": error, "error_description": code.message(**params)}
