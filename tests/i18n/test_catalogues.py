"""The Russian and Uzbek catalogues are complete and safe to format: every string the
code and the templates mark for translation has a translation in each (every plural form
of it), no translation is left fuzzy, and each keeps the placeholders its English has (a
missing or misspelt `%(name)s` would raise or drop a number at runtime)."""
from __future__ import annotations

import os
import re
from functools import lru_cache

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRANSLATIONS = os.path.join(ROOT, "app", "translations")
KEYWORDS = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None, lazy_ngettext=(1, 2), lazy_pgettext=((1, "c"), 2))
METHODS = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif]")
COUNT_NAMES = {"num", "count"}  # a plural form may leave the number out ("one ticket")


@lru_cache(maxsize=1)
def source_messages() -> dict:
    """(context, message) -> the files it comes from; message is a str, or a
    (singular, plural) tuple."""
    found: dict = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
            ROOT, METHODS, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
        if isinstance(message, tuple):
            message = tuple(m for m in message if m is not None)
            message = message if len(message) > 1 else message[0]
        found.setdefault((context, message), set()).add(filename)
    return found


@lru_cache(maxsize=None)
def catalogue(lang: str) -> Catalog:
    with open(os.path.join(TRANSLATIONS, lang, "LC_MESSAGES", "messages.po"), "rb") as f:
        return read_po(f, locale=lang)


def _lookup(cat: Catalog, key):
    context, message = key
    return cat.get(message[0] if isinstance(message, tuple) else message, context=context)


def _names(text: str) -> set[str]:
    return {m.group(1) or m.group(0) for m in PLACEHOLDER.finditer(text.replace("%%", ""))}


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_every_string_has_a_translation(lang):
    cat = catalogue(lang)
    nplurals = cat.num_plurals
    missing, fuzzy, short = [], [], []
    for key, files in sorted(source_messages().items(), key=lambda kv: str(kv[0])):
        entry = _lookup(cat, key)
        label = f"{key!r} ({', '.join(sorted(files))})"
        if entry is None:
            missing.append(label)
            continue
        if entry.fuzzy:
            fuzzy.append(label)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if isinstance(entry.id, tuple) and len(strings) != nplurals:
            short.append(f"{label}: {len(strings)} forms, {lang} has {nplurals}")
        if not all(s.strip() for s in strings):
            missing.append(label)
    assert not missing, f"{len(missing)} strings without a {lang} translation:\n" + "\n".join(missing[:60])
    assert not fuzzy, f"fuzzy (unchecked) {lang} translations:\n" + "\n".join(fuzzy[:60])
    assert not short, "\n".join(short)


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_translations_keep_their_placeholders(lang):
    wrong = []
    for entry in catalogue(lang):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        source = set().union(*(_names(i) for i in ids))
        for form in strings:
            if not form:
                continue
            have = _names(form)
            needed = source - COUNT_NAMES if isinstance(entry.id, tuple) else source
            if not have <= source or not needed <= have:
                wrong.append(f"{entry.id!r} -> {form!r}: has {sorted(have)}, English has {sorted(source)}")
    assert not wrong, f"{lang} translations with wrong placeholders:\n" + "\n".join(wrong)


@pytest.mark.parametrize("lang", ["ru", "uz"])
def test_plural_rules_are_the_languages_own(lang):
    """Russian has three forms (1 заявка, 2 заявки, 5 заявок), Uzbek two."""
    cat = catalogue(lang)
    assert cat.num_plurals == {"ru": 3, "uz": 2}[lang]


def test_catalogues_compile_to_what_the_app_reads(tmp_path):
    """The .po files compile (what `make translations-compile` and the test run do)."""
    import shutil

    from app.i18n import compile_catalogues

    for lang in ("ru", "uz"):
        dest = tmp_path / lang / "LC_MESSAGES"
        dest.mkdir(parents=True)
        shutil.copy(os.path.join(TRANSLATIONS, lang, "LC_MESSAGES", "messages.po"), dest / "messages.po")
    written = compile_catalogues(str(tmp_path), force=True)
    assert len(written) == 2 and all(os.path.getsize(p) > 0 for p in written)
