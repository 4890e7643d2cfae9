"""What the Content-Security-Policy tests share: every page of a populated review
(tests/populated.py) that answers a GET with HTML, and a parser that finds what the policy would
block in a page's markup (inline script, inline handlers, inline style, javascript: URLs, htmx's
eval)."""

from html.parser import HTMLParser

from tests.reviewapp.test_permissions import _fill, _page_routes

# <script type=...> blocks that browsers never run: data for the page's static scripts.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}
# htmx evaluates these (hx-on:*, and hx-vals/hx-vars with "js:"), which needs 'unsafe-eval'.
HTMX_EVAL_PREFIXES = ("hx-on",)


class InlineCode(HTMLParser):
    """Collects, as readable strings, everything in a page a strict policy blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            kind = (attributes.get("type") or "").lower()
            if kind not in DATA_SCRIPT_TYPES:
                self.found.append(f"inline <script{' type=' + kind if kind else ''}>")
        if tag == "style":
            self.found.append("inline <style>")
        for name, value in attrs:
            text = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> handler")
            elif name == "style":
                self.found.append(f'<{tag} style="{value}">')
            elif name.startswith(HTMX_EVAL_PREFIXES):
                self.found.append(f"<{tag} {name}> (htmx evaluates it)")
            elif name in ("hx-vals", "hx-vars") and text.startswith(("js:", "javascript:")):
                self.found.append(f"<{tag} {name}={value}> (htmx evaluates it)")
            elif name in URL_ATTRIBUTES and text.startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def html_responses(client, populated, user):
    """(url, response) for every page that answers `user`'s GET with an HTML page (200), ids
    filled with `populated`'s real objects: the review's pages and the user's own pages."""
    client.force_login(user)
    for route, _entry in _page_routes():
        if "<" in route and "review_pk" not in route:
            continue  # a signed link or a token's key: not a page one browses to
        url = _fill(route, populated.ids)
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            yield url, response
