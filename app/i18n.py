"""The reader's language (docs/languages.md).

English, Russian and Uzbek (Latin script). Which one a request reads:

- the API (`/api/...`): `Accept-Language` (API error messages follow it, as the contract
  says), else the signed-in user's `locale`, else DEFAULT_LOCALE;
- pages: the signed-in user's `locale` (profile page, `PATCH /api/users/me`), else the
  language picked with the switch on the signed-out pages (a cookie), else the browser's
  `Accept-Language`, else DEFAULT_LOCALE;
- a message to a person (in-app, Telegram, SMS) is written in that person's language,
  whoever caused it: `for_user(user)` / `user_locale(value)` with `force_locale`.

Flask-Babel chooses lazily, on the first translated string of a request: a route that
translates nothing (`/healthz`, the idle board poll) never pays for it.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask.globals import _cv_app
from flask_babel import Babel, force_locale, get_locale, get_translations as _babel_translations
from flask_babel.speaklater import LazyString

LOCALES = ("en", "ru", "uz")
# Each language's own name for itself: how a reader finds theirs in the switch.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "uz": "Oʻzbekcha"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()

__all__ = ["LOCALES", "LANGUAGE_NAMES", "babel", "force_locale", "current", "default_locale",
           "user_locale", "valid_locale", "init_app", "gettext", "ngettext", "lazy_gettext", "translations"]


def default_locale() -> str:
    value = (current_app.config.get("DEFAULT_LOCALE") or "en").strip().lower()
    return value if value in LOCALES else "en"


def valid_locale(value) -> str | None:
    """`value` if it is one of ours ("ru", "RU", "ru-RU" → "ru"), else None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LOCALES else None


def user_locale(value: str | None) -> str:
    """The language to write to a person whose stored choice is `value`."""
    return valid_locale(value) or default_locale()


def _accept_language() -> str | None:
    return request.accept_languages.best_match(LOCALES)


def _signed_in_locale() -> str | None:
    user = getattr(g, "_login_user", None)  # flask-login's user, when this request loaded one
    if user is None and request.path.startswith("/api/"):
        user = getattr(g, "api_user", None)
    return valid_locale(getattr(user, "locale", None)) if user is not None else None


def select_locale() -> str:
    if not has_request_context():
        return default_locale()
    if request.path.startswith("/api/"):
        return _accept_language() or _signed_in_locale() or default_locale()
    return (_signed_in_locale() or valid_locale(request.cookies.get(COOKIE))
            or _accept_language() or default_locale())


def _babel_ns():
    """Flask-Babel's per-context namespace (`g._flask_babel`) without going through the
    `g` proxy, or None outside an app context or before Babel's first use in it."""
    app_ctx = _cv_app.get(None)
    return None if app_ctx is None else app_ctx.g.__dict__.get("_flask_babel")


def translations():
    """`flask_babel.get_translations()`, remembered for the locale it was found for.

    Flask-Babel resolves the context, the domain and the locale through `g` on every
    string (about a dozen proxy lookups each); a busy page translates hundreds (the
    board: ~600). The catalog is kept on Babel's own per-context namespace together
    with the Locale object it belongs to, and used only while that same object is the
    context's locale: `force_locale` and `refresh()` replace or drop it, so they are
    honoured exactly as by Flask-Babel."""
    ns = _babel_ns()
    if ns is not None:
        cached = ns.__dict__.get("evercold_translations")
        if cached is not None and cached[0] is ns.__dict__.get("babel_locale"):
            return cached[1]
    found = _babel_translations()
    ns = _babel_ns()
    locale = ns.__dict__.get("babel_locale") if ns is not None else None
    if locale is not None:
        ns.evercold_translations = (locale, found)
    return found


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext, through `translations()`."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """flask_babel.ngettext, through `translations()`."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """flask_babel.lazy_gettext, through `translations()` when it is read."""
    return LazyString(gettext, string, **variables)


def current() -> str:
    """The language of what is being written now ("en", "ru", "uz")."""
    ns = _babel_ns()
    loc = ns.__dict__.get("babel_locale") if ns is not None else None
    if loc is None:
        loc = get_locale()
    return loc.language if loc is not None else default_locale()


def local_text(name: str | None, translations: dict | None, lang: str | None = None) -> str:
    """`name` as a reader of `lang` (default: the language being written now) sees it:
    its translation into that language where there is one, else `name` itself."""
    if translations and isinstance(translations, dict):
        if lang is None:
            lang = current()
        value = translations.get(lang)
        if isinstance(value, str) and value.strip():
            return value
    return name or ""


def init_app(app) -> None:
    app.config.setdefault("DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", default_locale_of(app.config))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    # Templates translate through the remembered catalog too (Flask-Babel installs
    # callables that look everything up again for each string).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def _languages():
        return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "current_language": current}


def default_locale_of(config) -> str:
    value = str(config.get("DEFAULT_LOCALE") or "en").strip().lower()
    return value if value in LOCALES else "en"


def compile_catalogues(root: str | None = None, *, force: bool = False) -> list[str]:
    """Compile each `translations/<lang>/LC_MESSAGES/messages.po` to its `.mo` where the
    `.mo` is missing or older (what `make translations-compile` does, for runs that do
    not go through make: the test suite). Returns the files written."""
    import os

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = root or os.path.join(os.path.dirname(__file__), "translations")
    written = []
    for lang in LOCALES:
        po = os.path.join(root, lang, "LC_MESSAGES", "messages.po")
        mo = po[:-3] + ".mo"
        if not os.path.exists(po):
            continue
        if not force and os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        tmp = f"{mo}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        os.replace(tmp, mo)  # two test processes at once never read half a file
        written.append(mo)
    return written
