"""A real browser (Debian Chromium through Playwright) through the front-end's pages: the demo
public client's authorization code flow with PKCE, from the login page to the ID token.

Plain synchronous tests: Playwright's sync API must not run inside trio (see browser.py).
"""

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import Page, expect

from tests.e2e.browser import artifacts_dir, open_browser, screenshot
from tests.e2e.test_authlib_client import SCOPE, id_token_claims

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_MS = 15_000


# --- helpers -------------------------------------------------------------------------------

class PublicClient:
    """The demo single-page app as Authlib sees it: no secret, PKCE with S256."""

    def __init__(self, stack):
        self.stack = stack
        self.client = stack.client("public")
        self.token_requests: list[httpx.Request] = []
        self.session = OAuth2Client(
            self.client["clientId"], token_endpoint_auth_method="none",
            redirect_uri=self.client["redirectUri"], scope=SCOPE, code_challenge_method="S256",
            event_hooks={"request": [self.token_requests.append]})
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(12)
        self.url, self.state = self.session.create_authorization_url(
            f"{stack.issuer}/authorize", code_verifier=self.verifier, nonce=self.nonce,
            state=secrets.token_urlsafe(12))
        query = parse_qs(urlsplit(self.url).query)
        assert query["code_challenge"] == [create_s256_code_challenge(self.verifier)]
        assert query["code_challenge_method"] == ["S256"]

    def exchange(self, code: str) -> dict:
        """The token request as a public client: client_id and code_verifier, no secret."""
        token = self.session.fetch_token(f"{self.stack.issuer}/token", code=code,
                                         code_verifier=self.verifier)
        sent = self.token_requests[-1]
        form = parse_qs(sent.content.decode())
        assert "authorization" not in sent.headers
        assert "client_secret" not in form
        assert form["client_id"] == [self.client["clientId"]]
        assert form["code_verifier"] == [self.verifier]
        return token

    def close(self) -> None:
        self.session.close()


def callback_url(stack) -> str:
    return stack.client("public")["redirectUri"]


def wait_for_callback(page: Page, stack) -> dict[str, str]:
    """Wait until the browser is at the client's redirect URI; its query, one value a name."""
    prefix = callback_url(stack) + "?"
    page.wait_for_url(lambda url: url.startswith(prefix))
    return {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}


def sign_in(page: Page, stack, username: str) -> None:
    expect(page.locator("input[name=password]")).to_be_visible()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", stack.password(username))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("button[name=decision][value=approve]")).to_be_visible()


def fresh_png(folder, name: str):
    """The path a screenshot will be saved to, with any earlier run's file removed."""
    path = folder / f"{name}.png"
    path.unlink(missing_ok=True)
    return path


# --- tests ---------------------------------------------------------------------------------

def test_code_flow_with_pkce_in_a_real_browser(stack):
    folder = artifacts_dir("browser")
    expected = [fresh_png(folder, "login"), fresh_png(folder, "consent")]
    client = PublicClient(stack)
    try:
        with open_browser(folder) as page:
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(client.url)

            expect(page.locator("h1")).to_have_text("Sign in")
            expect(page.locator(".subtitle")).to_contain_text("Demo single-page app")
            shots = [screenshot(page, folder, "login")]
            page.fill("input[name=username]", "alice")
            page.fill("input[name=password]", stack.password("alice"))
            page.get_by_role("button", name="Sign in").click()

            expect(page.locator("h1")).to_have_text(
                "Demo single-page app wants to access your account")
            logo = page.locator("img.client-logo")
            expect(logo).to_have_attribute("src", f"{stack.issuer}/static/demo-client.svg")
            expect(logo).to_have_attribute("alt", "Demo single-page app logo")
            assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), \
                "the client's logo did not load"
            expect(page.locator(".scope-list .scope code")).to_have_text(
                ["openid", "profile", "email"])
            expect(page.locator(".scope-list")).to_contain_text("See your email address")
            expect(page.locator(".subtitle")).to_contain_text("Alice Example")
            shots.append(screenshot(page, folder, "consent"))
            page.click("button[name=decision][value=approve]")

            answer = wait_for_callback(page, stack)
            expect(page.locator("h1")).to_have_text("Authorization response")

        assert answer["state"] == client.state
        assert answer["iss"] == stack.issuer
        token = client.exchange(answer["code"])
    finally:
        client.close()

    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == set(SCOPE.split())
    claims = id_token_claims(stack, token, client.client["clientId"], client.nonce)
    assert claims["sub"] == "alice"
    assert claims["nonce"] == client.nonce

    assert shots == expected
    for path in shots:
        assert path.is_file(), path
        data = path.read_bytes()
        assert len(data) > len(PNG_SIGNATURE) and data.startswith(PNG_SIGNATURE), path


def test_session_cookie_and_remembered_session_and_consent(stack):
    first, second = PublicClient(stack), PublicClient(stack)
    try:
        with open_browser(artifacts_dir("browser-remembered")) as page:
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(first.url)
            sign_in(page, stack, "alice")
            page.click("button[name=decision][value=approve]")
            first_answer = wait_for_callback(page, stack)

            cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
            session_cookie = cookies["tessera_frontend"]
            assert session_cookie["httpOnly"] is True
            assert session_cookie["sameSite"] == "Lax"
            assert session_cookie["domain"] == "localhost"
            assert session_cookie["secure"] is False  # http://localhost issuer

            # Only committed documents fire framenavigated, not redirects: with the session
            # and consent remembered, the callback must be the only page the browser shows.
            shown: list[str] = []
            page.on("framenavigated",
                    lambda frame: shown.append(frame.url) if frame == page.main_frame else None)
            page.goto(second.url)
            second_answer = wait_for_callback(page, stack)
            assert [url.split("?")[0] for url in shown] == [callback_url(stack)], shown
            expect(page.locator("input[name=password]")).to_have_count(0)

        assert first_answer["state"] == first.state
        assert second_answer["state"] == second.state
        first_claims = id_token_claims(stack, first.exchange(first_answer["code"]),
                                       first.client["clientId"], first.nonce)
        second_claims = id_token_claims(stack, second.exchange(second_answer["code"]),
                                        second.client["clientId"], second.nonce)
    finally:
        first.close()
        second.close()
    assert first_claims["sub"] == second_claims["sub"] == "alice"
    assert second_claims["auth_time"] == first_claims["auth_time"]   # the same login


def test_deny_on_the_consent_page(stack):
    client = PublicClient(stack)
    try:
        with open_browser(artifacts_dir("browser-deny")) as page:
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(client.url)
            sign_in(page, stack, "bob")
            page.get_by_role("button", name="Deny").click()
            answer = wait_for_callback(page, stack)
    finally:
        client.close()
    assert answer["error"] == "access_denied"
    assert answer["state"] == client.state
    assert answer["iss"] == stack.issuer
    assert "code" not in answer


def test_form_post_response_mode_submits_itself_to_the_client(stack):
    """OAuth 2.0 Form Post Response Mode §2: the code arrives as a POST to the redirect URI;
    the page's inline submit must not be blocked by the front-end's Content-Security-Policy."""
    client = PublicClient(stack)
    posted: list[dict] = []
    try:
        with open_browser(artifacts_dir("browser-form-post")) as page:
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: posted.append(
                {"url": request.url, "method": request.method, "body": request.post_data})
                if request.url == callback_url(stack) else None)
            page.goto(client.url + "&response_mode=form_post")
            sign_in(page, stack, "alice")
            page.get_by_role("button", name="Allow").click()
            page.wait_for_url(callback_url(stack))
            expect(page.get_by_role("heading", name="Authorization response")).to_be_visible()
        assert [entry["method"] for entry in posted] == ["POST"]
        answer = {name: values[0] for name, values in parse_qs(posted[0]["body"]).items()}
        assert answer["state"] == client.state
        token = client.exchange(answer["code"])
    finally:
        client.close()
    claims = id_token_claims(stack, token, stack.client("public")["clientId"], client.nonce)
    assert claims["sub"] == "alice"
