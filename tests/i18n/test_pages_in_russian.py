"""Every page of every role reads in Russian (issue 17): the demo world (tickets in every
status, photos, signatures, notifications) with every user's language set to "ru", each
role's pages (the same list the axe check walks: tests/browser/test_axe_every_page.py)
opened through the test client, and the text a person reads (text between tags, and the
title, aria-label, placeholder, alt and data-confirm attributes) searched for Latin
words.

Data is not translated and does not count: whatever the database holds as people typed
it or as the demo wrote it (ticket descriptions, notes, names, addresses, part names,
captions, event details such as a decline reason), e-mail addresses, ticket numbers and
addresses in the page. The names a reader picks from are NOT data here: category and
subcategory names have translations (issue item 6), and a notification's title and text
are messages, written in the reader's language.

Words that read the same in every language are allowed (the brand, CSV, SMS, Telegram,
UTC ...). The test prints what it finds, page by page.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from sqlalchemy import JSON, String, Text, select

from tests.browser.test_axe_every_page import ROLE_PAGES, _pick_ids
from tests.conftest import new_client

# Same in every language (as in test_templates_translated.py), and what a Russian
# interface shows in Latin letters anyway.
ALLOWED = {"Evercold", "Service", "Desk", "CSV", "PDF", "SMS", "Telegram", "UTC", "QR", "ID", "API", "English",
           "Oʻzbekcha", "htmx", "Start", "null", "true", "false", "URL", "JSON", "USD", "UZS", "EUR", "km",
           "SLA", "CRM", "Freshmart",
           "QR-", "CO"}  # "QR-код", "CO₂-эквивалент": Russian writes them so
# Columns that look like data but are words the reader must get in their language.
# (A notification keeps the language it was written in, like an email: docs/languages.md;
# tests/notifications/test_languages.py checks they are written in the recipient's.)
NOT_DATA = {("issue_categories", "name"), ("issue_subcategories", "name")}
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-confirm", "data-busy-text",
                   "data-empty-text", "data-label")
LATIN_WORD = re.compile(r"(?<![\w@.])[A-Za-z][A-Za-z'’-]+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URLISH = re.compile(r"(?:https?://|/)[\w./?=&%#:-]+")
TICKET_NUMBER = re.compile(r"\b[A-Z]{2,5}-\d[\w-]*\b")


class _Visible(HTMLParser):
    """The text a person reads: text nodes outside script/style/template, and the
    attributes read aloud or shown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        # A part marked as another language (lang="en": a stored name shown beside its
        # translation; the language switch's names) is not the page's language.
        void = tag in ("input", "img", "br", "hr", "meta", "link", "source", "area", "col", "wbr")
        if tag in ("script", "style", "template") or (not void and any(n == "lang" and v != "ru" for n, v in attrs)):
            self._skip += 1
            self._skipping.append(tag)
        for name, value in attrs:
            if self._skip:  # inside a part in another language: its alt texts are that language's too
                break
            if name in READ_ATTRIBUTES and value:
                self.parts.append(value)
            if tag == "input" and name == "value" and value and ("type", "submit") in attrs:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.parts


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def data_strings() -> list[str]:
    """Every text value the database holds (but NOT_DATA), longest first."""
    from app.extensions import db

    found = set()
    for table in db.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))
                and (table.name, c.name) not in NOT_DATA]
        if not cols:
            continue
        for row in db.session.execute(select(*cols)):
            for value in row:
                if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
                for text in _strings(value):
                    text = text.strip()
                    if len(text) >= 3:
                        found.add(text)
                    if table.name == "notifications":  # the inbox shows a message's sentences apart
                        found.update(p.strip() for p in re.split(r"(?<=[.:!?])\s+|\n", text) if len(p.strip()) >= 3)
    return sorted(found, key=len, reverse=True)


def latin_words(text: str, data: list[str]) -> list[str]:
    """The Latin words left in `text` once data, addresses and ticket numbers are out."""
    text = " ".join(text.split())
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    text = EMAIL.sub(" ", text)
    text = URLISH.sub(" ", text)
    text = TICKET_NUMBER.sub(" ", text)
    return [w for w in LATIN_WORD.findall(text) if w not in ALLOWED]


class _Live:
    """What `_pick_ids` needs of the browser tests' live server: an app and a context."""

    def __init__(self, app):
        self.app = app

    def ctx(self):
        return self.app.app_context()


@pytest.mark.sqlite_only
def test_every_page_of_every_role_reads_in_russian(app):
    from app.demo import load_demo
    from app.extensions import db
    from app.models import User

    with app.app_context():
        load_demo()
        db.session.commit()
        for user in db.session.execute(select(User)).scalars():
            user.locale = "ru"
        db.session.commit()
    demo = _pick_ids(_Live(app))  # may write what a page needs (a calendar, a report token): data too
    with app.app_context():
        data = data_strings()

    found: dict[str, dict[str, int]] = {}
    statuses = {}
    for role, pages in demo.urls.items():
        client = new_client(app)
        if role == "signed_out":
            client.set_cookie("lang", "ru")
        else:
            resp = client.post("/login", data={"email": demo.emails[role], "password": demo.password})
            assert resp.status_code == 302, (role, resp.status_code)
        for name, path in pages.items():
            resp = client.get(path)
            statuses[f"{role} {name}"] = resp.status_code
            words: dict[str, int] = defaultdict(int)
            for part in visible_text(resp.get_data(as_text=True)):
                for word in latin_words(part, data):
                    words[word] += 1
            if words:
                found[f"{role} {name} ({path})"] = dict(words)

    bad_status = {k: v for k, v in statuses.items() if v != 200}
    report = "\n".join(f"{page}: " + ", ".join(f"{w}×{n}" if n > 1 else w for w, n in sorted(ws.items()))
                       for page, ws in found.items())
    print(f"\n{len(found)} of {len(statuses)} pages show English words:\n{report}")
    assert not bad_status, bad_status
    assert not found, f"{len(found)} pages show English words in Russian:\n{report}"


def test_the_check_sees_english_and_passes_data():
    """The check itself: English words are found, data and allowed names are not."""
    html = ('<h1>Заявки</h1><p title="Close it">Закрыть · Evercold · SMS</p>'
            '<p>Compressor is noisy — tim@example.com · EC-2026-0042</p><script>var x = "words";</script>')
    words = [w for part in visible_text(html) for w in latin_words(part, ["Compressor is noisy"])]
    assert words == ["Close", "it"]
