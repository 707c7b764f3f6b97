"""Benchmark: the memory one photo upload costs to decode (issue 13, item 5).

    .venv/bin/python bench/decode_memory.py [--cases jpeg12,png_rgba_50mp,...]

For each image, a fresh worker process builds the app, warms Pillow up on a tiny image
(plugins imported, codecs loaded), then runs `photos.process_photo` once on the image:
decode, orientation, resize, re-encode, thumbnail, exactly what an upload does, minus
the request and the files. It reports

- RSS growth: the process's peak resident memory (VmHWM in /proc/self/status) after the
  call minus before it. Pillow's pixel buffers live outside the Python heap, so this is
  the figure that matters; the goal is under 250 MB.
- tracemalloc's peak for the call (the Python heap only; small by design).
- wall time, and the outcome: stored size, or the refusal (413) and its message.

Images are made in the parent (a few seconds for the large ones) and passed as files:
a 12 MP phone-like JPEG (EXIF orientation + GPS), a 12 MP HEIC (when pillow-heif can
encode), a 50 MP RGB JPEG, the attack's 7070x7070 RGBA PNG (~190 KB on the wire), and
PNGs just under and over the decode budget (PHOTO_MAX_DECODE_BYTES).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKER_TIMEOUT = 300
GOAL_MB = 250


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("needs Linux /proc")


def reset_hwm() -> None:
    """Reset the peak-RSS mark to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


# --- the images -------------------------------------------------------------------

def phone_jpeg(width: int, height: int) -> bytes:
    from bench.photo_upload import make_photo

    return make_photo(width, height)


def big_rgb_jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def rgba_png(side: int, mode: str = "RGBA") -> bytes:
    """The attack's shape: a large, nearly flat RGBA PNG that compresses to ~190 KB."""
    from PIL import Image, ImageDraw

    img = Image.new(mode, (side, side), (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255))
    ImageDraw.Draw(img).line([(0, 0), (side - 1, side - 1)], fill=(0, 0, 0, 255), width=9)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def heic(width: int, height: int) -> bytes | None:
    try:
        import pillow_heif
        from PIL import Image, ImageFilter

        pillow_heif.register_heif_opener()
        ramp = Image.linear_gradient("L").resize((width, height))
        noise = Image.effect_noise((width, height), 40)
        img = Image.merge("RGB", (ramp, noise, ramp)).filter(ImageFilter.GaussianBlur(1))
        out = io.BytesIO()
        img.save(out, format="HEIF", quality=80)
        return out.getvalue()
    except Exception as exc:  # no HEIF encoder in this build
        sys.stderr.write(f"HEIC skipped: {exc}\n")
        return None


CASES = {
    "jpeg_12mp": ("12 MP phone JPEG 4000x3000 (EXIF orientation 6 + GPS)", lambda: phone_jpeg(4000, 3000)),
    "heic_12mp": ("12 MP HEIC 4032x3024", lambda: heic(4032, 3024)),
    "jpeg_rgb_50mp": ("50 MP RGB JPEG 7070x7070", lambda: big_rgb_jpeg(7070, 7070)),
    "png_rgba_50mp": ("50 MP RGBA PNG 7070x7070 (the attack)", lambda: rgba_png(7070)),
    # The largest accepted under the default budget (200 MB estimated), to show the margin:
    "png_rgba_20mp": ("20 MP RGBA PNG 4470x4470 (near the budget)", lambda: rgba_png(4470)),
    "png_rgb_35mp": ("35 MP RGB PNG 5900x5900 (near the budget)", lambda: rgba_png(5900, "RGB")),
    "png_rgb_50mp": ("50 MP RGB PNG 7070x7070", lambda: rgba_png(7070, "RGB")),
}


# --- the worker -------------------------------------------------------------------

def worker(path: str) -> dict:
    import tracemalloc

    from app import create_app
    from app.services import photos
    from app.services.errors import DomainError

    data = Path(path).read_bytes()
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        from PIL import Image

        for fmt in ("JPEG", "PNG"):  # warm-up: plugins and codecs loaded before measuring
            out = io.BytesIO()
            Image.new("RGBA" if fmt == "PNG" else "RGB", (64, 64)).save(out, format=fmt)
            photos.process_photo(out.getvalue())
        reset_hwm()
        before = vm_hwm_mb()
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            result = photos.process_photo(data)
            outcome = {"status": 201, "stored": [result["width"], result["height"]]}
        except DomainError as exc:
            outcome = {"status": exc.status, "message": exc.message}
        seconds = time.perf_counter() - t0
        py_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        after = vm_hwm_mb()
    return {"bytes": len(data), "rssBeforeMB": round(before, 1), "rssPeakMB": round(after, 1),
            "rssGrowthMB": round(after - before, 1), "tracemallocPeakMB": round(py_peak, 1),
            "seconds": round(seconds, 2), **outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="evercold-bench-decode-") as tmpdir:
        for name in args.cases.split(","):
            title, make = CASES[name]
            data = make()
            if data is None:
                continue
            path = Path(tmpdir) / name
            path.write_bytes(data)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            env.pop("REDIS_URL", None)
            env.pop("DATABASE_URL", None)
            proc = subprocess.run([sys.executable, __file__, "--worker", str(path)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=WORKER_TIMEOUT)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"worker failed ({name})")
            row = {"case": title, **json.loads(proc.stdout.strip().splitlines()[-1])}
            row["withinGoal"] = row["rssGrowthMB"] < GOAL_MB
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}; goal: RSS growth < {GOAL_MB} MB per decode")


if __name__ == "__main__":
    main()
