"""Real-browser fixtures: Debian's Chromium driven by Playwright, against the real Beacon servers.

No network is needed: every request that does not go to the local Beacon server is either answered
by a route (the neutral "exit" site, a fake third-party site embedding the widget) or aborted.
Chromium missing is a test FAILURE with instructions, never a skip.
"""

from __future__ import annotations

import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List
from urllib.parse import urlsplit

import pytest

from tools import stack as stack_tool

CHROMIUM = os.environ.get("BEACON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXIT_URL = "https://www.bbc.co.uk/weather"
NEUTRAL_PAGE = "<!doctype html><html lang='en'><title>Weather</title><h1>Weather forecast</h1></html>"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def site_port() -> int:
    """Port of the local "other website" that embeds the widget (see :func:`sites`)."""
    return stack_tool.free_port()


@pytest.fixture(scope="module")
def web_stack(tmp_path_factory: pytest.TempPathFactory, site_port: int) -> Iterator[str]:
    """Rasa + action server with the web channel; yields the base URL of the Rasa server."""
    var = tmp_path_factory.mktemp("beacon-browser")
    env = {
        "BEACON_DB_NAME": str(var / "beacon.db"),
        "BEACON_VAR_DIR": str(var),
        "BEACON_WEB_SECRET": "browser-test-secret-" + "z" * 32,
        "BEACON_WEB_ALLOWED_ORIGINS": f"http://localhost:{site_port}",
        "BEACON_WEB_IP_RATE_PER_MINUTE": "6000",
        "BEACON_WEB_IP_BURST": "2000",
        "BEACON_WEB_RATE_PER_MINUTE": "600",
        "BEACON_WEB_BURST": "100",
    }
    with stack_tool.running_stack(var / "log", env=env) as running:
        yield running.servers[-1].url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is required for the browser tests but {CHROMIUM} does not exist. Install it with "
                    "`apt-get install -y chromium` (CI: .ci/run does this) or set BEACON_CHROMIUM to its path.",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watcher:
    """Console errors, page errors and CSP reports of one page; asserted clean at teardown."""

    def __init__(self) -> None:
        self.console: List[str] = []
        self.page_errors: List[str] = []

    def problems(self) -> List[str]:
        csp = [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]
        return csp + self.page_errors


def third_party_page(server: str, lang: str, exit_url: str = "https://neutral.test/") -> str:
    """A page of another website embedding the widget with one script tag, as docs/widget.md shows."""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Parents' page</title></head>"
            f"<body><main><h1>Another charity</h1><p>Some text.</p></main>"
            f"<script src='{server}/webhooks/web/widget.js' data-lang='{lang}' data-exit-url='{exit_url}' defer>"
            f"</script></body></html>")


@pytest.fixture(scope="module")
def sites(web_stack: str, site_port: int) -> Iterator[Dict[str, str]]:
    """Another website on loopback (a real server: Chromium lets only loopback pages call a loopback API).

    ``allowed``: http://localhost:<port>/ (in BEACON_WEB_ALLOWED_ORIGINS, widget in Italian);
    ``unlisted``: http://127.0.0.1:<port>/ (a different origin that is not allowed).
    """

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            lang = "it" if (self.headers.get("Host") or "").startswith("localhost") else "en"
            body = third_party_page(web_stack, lang).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", site_port), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"allowed": f"http://localhost:{site_port}/", "unlisted": f"http://127.0.0.1:{site_port}/"}
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_page(browser: Any, web_stack: str, site_port: int) -> Iterator[Callable[..., Any]]:
    """``make_page(**context_options)`` → a fresh page (own context: empty sessionStorage)."""
    contexts = []
    watchers: List[Watcher] = []
    local = {urlsplit(web_stack).netloc, f"localhost:{site_port}", f"127.0.0.1:{site_port}"}

    def route(route_: Any) -> None:
        url = route_.request.url
        parts = urlsplit(url)
        if url.startswith(EXIT_URL) or parts.netloc == "neutral.test":
            route_.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE)
        elif parts.netloc in local:
            route_.continue_()
        else:
            route_.abort()  # no network: anything else is a bug

    def factory(**options: Any) -> Any:
        defaults: Dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}
        defaults.update(options)
        context = browser.new_context(**defaults)
        context.set_default_timeout(TIMEOUT_MS)
        context.route(re.compile(r".*"), route)
        contexts.append(context)
        page = context.new_page()
        watcher = Watcher()
        page.on("console", lambda message: watcher.console.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: watcher.page_errors.append(str(error)))
        watchers.append(watcher)
        page.watcher = watcher
        return page

    yield factory
    problems = [problem for watcher in watchers for problem in watcher.problems()]
    for context in contexts:
        context.close()
    assert not problems, f"browser console reported: {problems}"


@pytest.fixture
def demo_url(web_stack: str) -> str:
    return f"{web_stack}/webhooks/web/demo"


def docs_path(name: str) -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / name


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")


def serious_axe_violations(page: Any) -> List[Dict[str, Any]]:
    """Run the vendored axe-core on ``page``; its serious and critical WCAG 2.1 AA / best-practice violations."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results = page.evaluate("""async (tags) => {
        const r = await axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""", list(AXE_TAGS))
    return [v for v in results if v["impact"] in ("serious", "critical")]

