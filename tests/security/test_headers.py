"""Browser-side defences on every page: a Content-Security-Policy that allows no inline
script or style and no framing, nosniff, a strict referrer policy; and pages that need
no inline code to work (no <script> bodies, no style="" attributes, no on*= handlers),
so the policy breaks nothing. htmx is told not to inject its own indicator styles."""
import re

import pytest

from tests.security.conftest import ACTORS, build_scene
from tests.security.test_page_access_matrix import PAGES, TABLE

HTML_PAGES = [(name, next(actor for i, actor in enumerate(ACTORS) if TABLE[name][i] in (200, 201)))
              for name, (method, _rule, _fn) in PAGES.items()
              if method == "GET" and any(code == 200 for code in TABLE[name])]


def _directives(csp: str) -> dict:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(r, where):
    csp = r.headers.get("Content-Security-Policy", "")
    d = _directives(csp)
    assert d, f"{where}: no Content-Security-Policy"
    for kind in ("script-src", "style-src"):
        sources = d.get(kind) or d.get("default-src")
        assert sources, f"{where}: no {kind}"
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, f"{where}: {kind} {sources}"
        assert "*" not in sources and "data:" not in sources, f"{where}: {kind} {sources}"
    for kind in ("script-src-attr", "style-src-attr", "script-src-elem", "style-src-elem"):
        assert "'unsafe-inline'" not in d.get(kind, []), f"{where}: {kind}"
    assert d.get("frame-ancestors") == ["'none'"], where
    assert d.get("object-src") == ["'none'"], where
    assert r.headers.get("X-Content-Type-Options") == "nosniff", where
    assert r.headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin",
                                                "strict-origin-when-cross-origin"), where


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_TAG = re.compile(r"<style\b", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)
HX_ON = re.compile(r"\shx-on(:|-)", re.I)


def inline_code(html: str) -> list[str]:
    problems = []
    for attrs, body in SCRIPT.findall(html):
        if body.strip():
            problems.append("inline <script> body: " + body.strip()[:80])
        if "src=" not in attrs and "application/json" not in attrs:
            problems.append("<script> without src: " + attrs)
    for rx, what in ((STYLE_ATTR, "style= attribute"), (STYLE_TAG, "<style> element"), (HANDLER, "on*= handler"),
                     (JS_URL, "javascript: URL"), (HX_ON, "hx-on handler (needs eval)")):
        for m in rx.finditer(html):
            problems.append(f"{what}: {html[m.start():m.end() + 60][:140]}")
    return problems


@pytest.mark.sqlite_only
@pytest.mark.parametrize("route_name,actor", HTML_PAGES, ids=[f"{p}|{a}" for p, a in HTML_PAGES])
def test_every_page_is_served_with_a_strict_policy_and_has_no_inline_code(world, as_actor, backend, route_name, actor):
    scene = build_scene(world)
    client = as_actor(actor)
    page = PAGES[route_name][2](world, scene, client, actor)
    url = page.request.full_path if page.request.query_string else page.request.path
    fragment = client.get(url, headers={"HX-Request": "true"})  # what htmx swaps in
    for r in (page, fragment):
        assert r.status_code in (200, 286), (route_name, r.status_code)
        check_headers(r, route_name)
        if r.mimetype == "text/html":
            assert inline_code(r.get_data(as_text=True)) == [], route_name


@pytest.mark.sqlite_only
@pytest.mark.parametrize("path", ["/login", "/healthz", "/readyz", "/no-such-page", "/static/css/app.css", "/api/tickets"])
def test_public_answers_and_errors_carry_the_same_headers(client, backend, path):
    r = client.get(path)
    check_headers(r, path)
    if r.mimetype == "text/html":
        assert inline_code(r.get_data(as_text=True)) == []


@pytest.mark.sqlite_only
def test_error_pages_have_no_inline_code(world, as_actor, backend):
    client = as_actor("tech")
    for path in ("/dispatcher/tickets", "/tickets/no-such-ticket"):
        r = client.get(path)
        assert r.status_code in (403, 404)
        check_headers(r, path)
        assert inline_code(r.get_data(as_text=True)) == []


def test_htmx_is_configured_for_the_policy(client):
    html = client.get("/login").get_data(as_text=True)
    meta = re.search(r"""<meta name="htmx-config" content='([^']*)'""", html)
    assert meta, "no htmx-config meta"
    import json

    config = json.loads(meta.group(1))
    assert config["includeIndicatorStyles"] is False  # htmx would inject an inline <style>
    assert config.get("allowEval") is False  # hx-on / js: expressions would need 'unsafe-eval'
