"""The Content-Security-Policy holds in a real browser: Chromium visits every kind of workbench
page of the demo (served by `fimiscope serve`) with its console watched, and no page breaks the
policy; an injected inline script is refused, so the policy is not a formality."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.security.support import PASSWORD
from tests.web.ui_support import CHROMIUM, CHROMIUM_ARGS

# Links not followed: downloads, PDF rendering, JSON, the logout form.
SKIP = re.compile(r"\.(pdf|gexf|json|csv)$|^/(static|api|taxii2|logout)(/|$)")
MAX_PAGES = 80


def _kind(path: str) -> tuple[str, ...]:
    """A page's route, roughly: words stay, ids and names become '*'."""
    path = path.split("?", 1)[0].strip("/")
    return tuple(p if re.fullmatch(r"[a-z]+(-[a-z]+)*", p) else "*" for p in path.split("/")) if path else ("",)


@pytest.fixture
def browser_page() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_no_workbench_page_breaks_the_csp(server: str, browser_page: Any) -> None:
    page = browser_page
    violations: list[str] = []
    errors: list[str] = []
    current = {"url": ""}

    def on_console(msg: Any) -> None:
        if "Content Security Policy" in msg.text:
            violations.append(f"{current['url']}: {msg.text}")
        elif msg.type == "error":
            errors.append(f"{current['url']}: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{current['url']}: {exc}"))
    page.goto(f"{server}/login")
    page.fill("input[name=name]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))

    queue = ["/"]
    seen_kinds: set[tuple[str, ...]] = set()
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        if _kind(path) in seen_kinds:
            continue
        seen_kinds.add(_kind(path))
        current["url"] = path
        resp = page.goto(server + path, wait_until="load")
        assert resp is not None and resp.status < 500, (path, resp.status if resp else None)
        page.wait_for_timeout(150)  # charts draw after load
        visited.append(path)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urlsplit(href)
            if target.netloc and target.netloc != urlsplit(server).netloc:
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if target.path.startswith("/") and not SKIP.search(target.path) and _kind(target.path) not in seen_kinds:
                queue.append(link)
    kinds = {k[0] for k in seen_kinds}
    # The crawl reached every area of the workbench (and the self-contained reports).
    for area in ("", "triage", "clusters", "claims", "incidents", "narratives", "coordination",
                 "infrastructure", "sources", "search", "signals", "documents", "reports"):
        assert area in kinds, f"the crawl never reached /{area}: visited {visited}"
    assert ("incidents", "*") in seen_kinds and ("reports", "incidents", "*") in seen_kinds, visited
    assert not violations, "\n".join(violations)
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # The policy is enforced: inline script and inline event handlers are refused.
    current["url"] = "/ (injected)"
    page.goto(f"{server}/")
    page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
        document.body.appendChild(s);
        document.body.insertAdjacentHTML('beforeend', '<img src="/static/none.png" onerror="window.__handler = 1">');
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.__inline, window.__handler]") == [None, None]
    assert any("(injected)" in v for v in violations)


def test_reports_allow_their_inline_style_sheet_and_nothing_else(server: str, demo: Any) -> None:
    import httpx

    with httpx.Client(base_url=server, headers={"authorization": f"Bearer {demo.token}"}) as api:
        signal = api.get("/api/signals", params={"limit": 1}).json()["items"][0]["id"]
        resp = api.get(f"/reports/signals/{signal}.html")
    assert resp.status_code == 200
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
