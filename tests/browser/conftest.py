import os
import shutil

import pytest

# The analysis dashboard test builds its data with the analysis tests' fixtures.
from tests.analysis.conftest import (  # noqa: F401 -- imported to register fixtures
    hospitalised,
    outcome,
    sheet,
    symptoms,
)
from tests.conftest import needs

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if os.path.exists(path) else None


# Runs in every page before its own scripts: a Content-Security-Policy violation becomes a console
# error, which the watch below collects (Chromium also logs most violations itself).
CSP_INIT_SCRIPT = """
document.addEventListener("securitypolicyviolation", (e) => {
  const what = `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}`;
  console.error(`securitypolicyviolation: ${what}:${e.lineNumber} (${e.sample})`);
});
"""


# The policy forbids eval in pages, Playwright's included: give wait_for_function a function
# ("() => ...") rather than a bare expression, which Playwright would evaluate as a string.
class WatchedBrowser:
    """The Chromium browser, but every context it opens reports Content-Security-Policy
    violations and uncaught script errors into `problems`; the autouse fixture below fails any
    browser test that leaves one there. Everything else passes through to Playwright's Browser."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.problems: list[str] = []

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def watch(self, context):
        context.add_init_script(CSP_INIT_SCRIPT)

        def on_console(message):
            text = message.text
            if message.type == "error" and (
                "Content Security Policy" in text or "securitypolicyviolation" in text
            ):
                self.problems.append(f"{message.page.url if message.page else ''}: {text}")

        def on_error(error):
            page = error.page.url if error.page else ""
            self.problems.append(f"{page}: uncaught {error.error}")

        context.on("console", on_console)
        context.on("weberror", on_error)
        return context

    def new_context(self, *args, **kwargs):
        return self.watch(self._browser.new_context(*args, **kwargs))

    def new_page(self, *args, **kwargs):
        # A context of its own, as Browser.new_page makes; it goes when the browser closes.
        return self.new_context(*args, **kwargs).new_page()


@pytest.fixture(autouse=True)
def _no_csp_violations_or_script_errors(request):
    """Every browser test also fails if a page broke the Content-Security-Policy or threw."""
    if not {"browser", "page"} & set(request.fixturenames):
        yield
        return
    watched = request.getfixturevalue("browser")
    watched.problems.clear()
    yield
    problems, watched.problems[:] = list(watched.problems), []
    assert problems == [], "\n".join(problems)


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    needs(executable is not None, "Chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield WatchedBrowser(browser)
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
