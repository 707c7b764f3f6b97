"""No words in a template that bypass translation: every text a person reads on a page
(between tags, or in title, aria-label, placeholder, alt and data-confirm attributes)
goes through `_()`, `ngettext()` or `{% trans %}`. Names that are the same in every
language (the brand, CSV, SMS, Telegram) are allowed."""
from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "app", "templates")

# Words that read the same in English, Russian and Uzbek interfaces.
SAME_IN_EVERY_LANGUAGE = {"Evercold", "CSV", "PDF", "SMS", "Telegram", "UTC", "QR", "ID", "API",
                          "English", "Русский", "Oʻzbekcha", "x", "htmx"}
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-confirm", "aria-description",
                   "aria-roledescription", "data-label", "data-busy-text", "data-empty-text")

_COMMENT = re.compile(r"\{#.*?#\}", re.S)
# `{% block main_class %}container narrow{% endblock %}`: CSS class names, not words.
_CLASS_BLOCK = re.compile(r"\{%-?\s*block\s+\w*class\s*-?%\}.*?\{%-?\s*endblock\b[^%]*%\}", re.S)
_TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
_BLOCK = re.compile(r"\{%.*?%\}", re.S)
_EXPR = re.compile(r"\{\{.*?\}\}", re.S)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&#?\w+;")
_WORD = re.compile(r"[^\W\d_]{2,}", re.U)
_ATTR = re.compile(r"""\s(%s)\s*=\s*(?:"([^"]*)"|'([^']*)')""" % "|".join(re.escape(a) for a in READ_ATTRIBUTES), re.S)


def _blank(match: re.Match) -> str:
    """Keep the line count: replace a match by its newlines only."""
    return "\n" * match.group(0).count("\n")


def untranslated(source: str) -> list[tuple[int, str]]:
    text = _COMMENT.sub(_blank, source)
    text = _CLASS_BLOCK.sub(_blank, text)
    text = _TRANS.sub(_blank, text)
    text = _SCRIPT.sub(_blank, text)
    text = _HTML_COMMENT.sub(_blank, text)
    found = []
    # Attributes people read (their values without the expressions in them).
    for m in _ATTR.finditer(_BLOCK.sub(_blank, text)):
        value = _EXPR.sub(" ", m.group(2) if m.group(2) is not None else m.group(3))
        words = [w for w in _WORD.findall(_ENTITY.sub(" ", value)) if w not in SAME_IN_EVERY_LANGUAGE]
        if words:
            line = text.count("\n", 0, m.start()) + 1
            found.append((line, f'{m.group(1)}="{" ".join(words)}"'))
    # Text between tags.
    text = _EXPR.sub(lambda m: " " * len(m.group(0).replace("\n", "")) + _blank(m), text)
    text = _BLOCK.sub(lambda m: " " + _blank(m), text)
    pos = 0
    for chunk in _TAG.split(text):
        start = text.find(chunk, pos) if chunk else pos
        pos = start + len(chunk)
        words = [w for w in _WORD.findall(_ENTITY.sub(" ", chunk)) if w not in SAME_IN_EVERY_LANGUAGE]
        if words:
            line = text.count("\n", 0, start + len(chunk) - len(chunk.lstrip())) + 1
            found.append((line, " ".join(words)[:80]))
    return found


def test_templates_have_no_untranslated_words():
    problems = []
    for folder, _dirs, files in os.walk(TEMPLATES):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                for line, words in untranslated(f.read()):
                    problems.append(f"{os.path.relpath(path, ROOT)}:{line}: {words}")
    assert not problems, f"{len(problems)} texts outside _() / {{% trans %}}:\n" + "\n".join(problems)


def test_the_check_sees_bare_words_and_passes_translated_ones():
    assert untranslated("<p>Save</p>") == [(1, "Save")]
    assert untranslated('<button title="Close it">{{ _("Save") }}</button>') == [(1, 'title="Close it"')]
    assert untranslated('<p>{{ _("Save") }}</p>\n<p>{% trans n=3 %}{{ n }} tickets{% endtrans %}</p>') == []
    assert untranslated("<p>{{ ticket.number }} · Evercold</p>{# a note #}") == []
    assert untranslated("<script>var a = 'words here';</script>") == []
    assert untranslated("{% block main_class %}container narrow{% endblock %}<p>Hi there</p>") == [(1, "Hi there")]
