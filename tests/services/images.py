"""Image files for upload tests: honest photos and the hostile ones."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image, ImageDraw


def jpeg_with_exif(width=400, height=200, orientation=6, gps=True) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90° to view" and carries GPS."""
    img = Image.new("RGB", (width, height), (20, 120, 220))
    ImageDraw.Draw(img).rectangle([0, 0, width // 4, height // 4], fill=(250, 10, 10))  # a marked corner
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (41.0, 18.0, 40.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (69.0, 16.0, 47.0),
        }
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_photo(width=300, height=300) -> bytes:
    img = Image.new("RGBA", (width, height), (10, 200, 10, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def webp_photo(width=300, height=200) -> bytes:
    img = Image.new("RGB", (width, height), (10, 10, 200))
    out = io.BytesIO()
    img.save(out, format="WEBP")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """The first half of a real JPEG (noise, so the half is missing real data)."""
    img = Image.effect_noise((600, 400), 64).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    return data[: len(data) // 2]


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
       b'<script>alert(1)</script><rect width="100" height="100" fill="red"/></svg>')

TEXT_AS_JPG = b"This is not a photo, it is a text file with a .jpg name.\n" * 20


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side=20000) -> bytes:
    """A valid, small (~50 KB) 1-bit PNG declaring side x side pixels (400 megapixels)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def flat_png(side: int, color_type: int = 6) -> bytes:
    """A valid side x side 8-bit PNG of zeros (colour type 6: RGBA, 2: RGB), built row by
    row so the test process never holds its pixels: 7070x7070 RGBA is ~190 KB on the
    wire and ~200 MB decoded (issue 13, item 5)."""
    channels = {2: 3, 6: 4}[color_type]
    ihdr = struct.pack(">IIBBBBB", side, side, 8, color_type, 0, 0, 0)
    row = b"\x00" * (1 + side * channels)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
