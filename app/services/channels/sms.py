"""The SMS gateway: POST $SMS_GATEWAY_URL {"to", "text"} with an optional auth header.

Texts aim at one segment: 160 GSM-7 characters, or 70 when a character outside the
GSM alphabet forces UCS-2 (Cyrillic always does). Uzbek's letters oʻ/gʻ and its
tutuq belgisi ʼ are written with the ASCII apostrophe in an SMS, as Uzbek SMS are:
it keeps a Latin Uzbek text in GSM-7, at 160 characters instead of 70.
"""
from __future__ import annotations

import requests
from flask import current_app

from app.services.channels import SendResult, http, parse_retry_after, timeouts

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")  # two septets each
GSM_SEGMENT = 160
UCS2_SEGMENT = 70


# ʻ (U+02BB), ʼ (U+02BC) and the typographic quotes people type for them -> '
_APOSTROPHES = str.maketrans({"\u02bb": "'", "\u02bc": "'", "\u2018": "'", "\u2019": "'"})


def configured() -> bool:
    return bool(current_app.config.get("SMS_GATEWAY_URL"))


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def segment_length(text: str) -> tuple[int, int]:
    """(length in the encoding the text needs, that encoding's one-segment limit)."""
    if is_gsm(text):
        return sum(2 if c in GSM_EXTENDED else 1 for c in text), GSM_SEGMENT
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text), UCS2_SEGMENT


def fits_one_segment(text: str) -> bool:
    length, limit = segment_length(text)
    return length <= limit


def plain_apostrophes(text: str) -> str:
    """`text` with Uzbek's ʻ and ʼ (and ‘ ’) as ', when that makes it GSM-7 (one
    160-character segment instead of 70); unchanged when something else needs UCS-2
    anyway (Cyrillic), so nothing is lost for nothing."""
    plain = text.translate(_APOSTROPHES)
    return plain if plain != text and is_gsm(plain) else text


def fit(candidates: list[str]) -> str:
    """The first candidate (richest first) that fits one segment; else the last one, cut."""
    candidates = [plain_apostrophes(text) for text in candidates]
    for text in candidates:
        if fits_one_segment(text):
            return text
    text = candidates[-1]
    ellipsis = "..." if is_gsm(text) else "…"  # "…" itself is not GSM-7
    while text and not fits_one_segment(text + ellipsis):
        text = text[:-1]
    return text.rstrip() + ellipsis


def _auth_header() -> dict:
    raw = current_app.config.get("SMS_GATEWAY_AUTH_HEADER") or ""
    name, sep, value = raw.partition(":")
    if not sep or not name.strip():
        return {}
    return {name.strip(): value.strip()}


def send(phone: str, text: str, idempotency_key: str) -> SendResult:
    """One SMS. The Idempotency-Key lets a gateway that supports it drop a retried duplicate."""
    headers = {"Idempotency-Key": idempotency_key, **_auth_header()}
    try:
        resp = http().post(current_app.config["SMS_GATEWAY_URL"], json={"to": phone, "text": text},
                             headers=headers, timeout=timeouts())
    except requests.RequestException as exc:
        return SendResult.from_exception("The SMS gateway", exc)
    reason = f"{resp.status_code} {resp.reason or ''}".strip()
    if 200 <= resp.status_code < 300:
        try:
            data = resp.json()
        except ValueError:
            data = None
        ext = None
        if isinstance(data, dict):
            ext = data.get("id") or data.get("messageId") or data.get("message_id")
        return SendResult.sent(str(ext)[:100] if ext is not None else None)
    if resp.status_code == 429:
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        if retry_after is None:
            try:
                data = resp.json()
                retry_after = parse_retry_after(data.get("retry_after")) if isinstance(data, dict) else None
            except ValueError:
                pass
        return SendResult.transient(f"429 {resp.reason or 'Too Many Requests'}", retry_after)
    if resp.status_code in (408, 425) or resp.status_code >= 500:
        return SendResult.transient(reason)
    if resp.status_code in (401, 403):
        # Credentials are configuration: keep the message until ops fix them.
        return SendResult.transient(reason)
    return SendResult.failed(reason)  # the gateway refuses this message (bad number ...)
