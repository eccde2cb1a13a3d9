"""A user agent without JavaScript: keeps cookies, follows the front-end's own redirects and
submits its HTML forms, the way a browser would with scripts off."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

CALLBACK_PATH = "/demo/callback"


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action"), "fields": {},
                               "buttons": []})
        elif tag == "input" and self.forms and attributes.get("type") == "hidden":
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and self.forms and attributes.get("name"):
            self.forms[-1]["buttons"].append((attributes["name"], attributes.get("value", "")))


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class UserAgent:
    def __init__(self, issuer: str):
        self.issuer = issuer
        self.http = httpx.Client(follow_redirects=False, timeout=30)

    def close(self) -> None:
        self.http.close()

    def open(self, url: str) -> httpx.Response:
        return self._follow(self.http.get(url))

    def submit(self, page: httpx.Response, action: str, **fields: str) -> httpx.Response:
        """Post the page's form whose action is `action`, its hidden fields plus `fields`."""
        form = next((f for f in forms(page.text) if f["action"] == action), None)
        assert form is not None, f"no form posting to {action} on {page.url}:\n{page.text}"
        response = self.http.post(urljoin(str(page.url), action),
                                  data={**form["fields"], **fields})
        return self._follow(response)

    def sign_in(self, page: httpx.Response, username: str, password: str) -> httpx.Response:
        return self.submit(page, "/authorize/login", username=username, password=password,
                           decision="login")

    def decide(self, page: httpx.Response, decision: str) -> httpx.Response:
        return self.submit(page, "/authorize/consent", decision=decision)

    def _follow(self, response: httpx.Response) -> httpx.Response:
        """Follow redirects within the front-end; stop at one that leaves it for a client."""
        for _ in range(10):
            location = response.headers.get("Location")
            if response.status_code not in (302, 303) or location is None:
                return response
            target = urljoin(str(response.url), location)
            if not target.startswith(self.issuer) or urlsplit(target).path == CALLBACK_PATH:
                return response
            response = self.http.get(target)
        raise AssertionError("too many redirects")


def page_kind(response: httpx.Response) -> str:
    """Which page the front-end showed: login, consent, select_account, or the form names."""
    actions = {form["action"] for form in forms(response.text)}
    for kind, action in (("consent", "/authorize/consent"), ("login", "/authorize/login"),
                         ("select_account", "/authorize/select")):
        if action in actions:
            return kind
    return "other"


def redirect_parameters(response: httpx.Response) -> dict[str, str]:
    """The query of a redirect to the client, one value per name."""
    assert response.status_code == 302, f"{response.status_code}: {response.text}"
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {name: values[0] for name, values in query.items()}
