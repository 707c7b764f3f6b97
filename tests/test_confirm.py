"""One confirm mechanism (issue 14, item 5): every confirmation before a destructive
action is `data-confirm`, handled in one place (static/js/app.js) for plain forms and
htmx elements alike."""
from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"


def test_no_page_uses_another_confirm_mechanism():
    templates = {str(p.relative_to(APP)): p.read_text() for p in (APP / "templates").rglob("*.html")}
    assert [name for name, text in templates.items() if "hx-confirm" in text] == []
    scripts = {p.name: p.read_text() for p in (APP / "static" / "js").glob("*.js")}
    callers = sorted(name for name, text in scripts.items() if re.search(r"\bconfirm\(", text))
    assert callers == ["app.js"]


def test_every_destructive_form_asks_first():
    """Forms that remove, close, unlink or send back carry a question."""
    destructive = re.compile(r"(unlink|reject|close|remove|delete|revoke)", re.I)
    missing = []
    for path in (APP / "templates").rglob("*.html"):
        for tag in re.findall(r"<(?:form|button)\b[^>]*>", path.read_text(), re.S):
            action = re.search(r'(?:action|hx-post|hx-delete)="([^"]*)"', tag)
            if action and destructive.search(action.group(1)) and "data-confirm" not in tag:
                missing.append((str(path.relative_to(APP)), action.group(1)))
    assert missing == []
