"""Signatures are re-encoded (issue 13, item 4): what the signer's browser sent is
decoded and a fresh PNG of its pixels is stored, so text chunks, metadata and bytes
smuggled after the image (an HTML page, a script) are never stored or served."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from app.extensions import db
from app.models import ServiceCompletion
from app.services.storage import get_storage
from tests.factories import png_bytes
from tests.services.flow import completed
from tests.services.images import _chunk

TRAILER = b"<html><body><script>alert(document.cookie)</script></body></html>"


def hostile_signature_png() -> bytes:
    """A real drawn signature (400x200 RGBA) with a tEXt chunk, an iTXt chunk and an
    HTML trailer after IEND."""
    png = png_bytes(400, 200)
    assert png.endswith(_chunk(b"IEND", b""))
    body = png[: -len(_chunk(b"IEND", b""))]
    extra = (_chunk(b"tEXt", b"Comment\x00<html><script>alert(1)</script></html>")
             + _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>secret</x:xmpmeta>"))
    return body + extra + _chunk(b"IEND", b"") + TRAILER


def _assert_clean(data: bytes):
    assert b"tEXt" not in data and b"iTXt" not in data and b"zTXt" not in data
    assert b"<html" not in data and b"script" not in data and b"xmpmeta" not in data
    assert data.endswith(_chunk(b"IEND", b""))  # nothing after the image
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (400, 200)
    img.load()
    assert img.getchannel("A").getextrema()[1] == 255  # the drawn stroke is still there


@pytest.mark.parametrize("via", ["api", "page"])
def test_a_signature_with_text_chunks_and_an_html_trailer_is_stored_and_served_clean(world, api, signed_in, via):
    hostile = hostile_signature_png()
    original = Image.open(io.BytesIO(hostile)).convert("RGBA")
    assert b"tEXt" in hostile and hostile.endswith(TRAILER)
    ticket, completion = completed(world)
    url = "data:image/png;base64," + base64.b64encode(hostile).decode()
    if via == "api":
        r = api.as_(world.manager).post(f"/api/completions/{completion.id}/approve",
                                        json={"action": "approve", "signedBy": "Dilnoza K.", "signature": url})
        assert r.status_code == 200, r.data[:300]
        served = api.as_(world.dispatcher).get(f"/api/completions/{completion.id}/signature")
    else:
        manager = signed_in(world.manager)
        r = manager.post(f"/tickets/{ticket.id}/approve",
                         data={"action": "approve", "signedBy": "Dilnoza K.", "signature": url})
        assert r.status_code in (302, 303), r.data[:300]
        served = manager.get(f"/signatures/{completion.id}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    db.session.expire_all()
    stored = get_storage().get(db.session.get(ServiceCompletion, completion.id).signature_key)
    for data in (stored, served.data):
        _assert_clean(data)
        assert Image.open(io.BytesIO(data)).convert("RGBA").tobytes() == original.tobytes()  # same pixels
