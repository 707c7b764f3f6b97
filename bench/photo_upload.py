"""Benchmark: a 12-megapixel phone photo uploaded through the technician's upload
endpoint, end to end — the multipart request, decoding, orientation, metadata
stripping, resizing, the thumbnail, both files written (fsync'd) and the row committed.

    .venv/bin/python bench/photo_upload.py [--runs 7] [--http] [--size 4000x3000]

The parent process makes the test photo (EXIF orientation 6 + GPS, ~3 MB like a
phone's) and starts one worker process per measurement, so each figure is that
worker's own: a timing worker (median of --runs uploads after one warm-up) and a
memory worker (peak RSS from getrusage(ru_maxrss) before and after the uploads,
plus tracemalloc's peak of the Python heap for one upload; Pillow allocates pixel
buffers outside the Python heap, so RSS is the figure that matters).

Everything runs on loopback with a temporary SQLite database and upload folder,
and is bounded (a timeout per worker). `--http` sends the requests over a real
socket to the app served by werkzeug in the worker; the default drives the WSGI app
in process (Flask's test client), which measures the same code without the socket.
Goal (issue 6): median under 1 s, worker peak under 250 MB.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 1.0
GOAL_MB = 250
WORKER_TIMEOUT = 300


def make_photo(width: int, height: int) -> bytes:
    """A phone-like JPEG: smooth gradients with sensor-ish noise (compresses like a
    real photo, ~3 MB at 12 MP), rotated by EXIF and carrying GPS tags."""
    from PIL import Image, ImageFilter

    ramp = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    img = Image.merge("RGB", (ramp, noise, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    img = img.filter(ImageFilter.GaussianBlur(1))
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (41.0, 18.0, 40.0), 3: "E", 4: (69.0, 16.0, 47.0)})
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the address space made at
    exec; ru_maxrss would also count the parent's pages inherited through fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- the worker -----------------------------------------------------------------

def build_app(tmp: Path):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "HUEY_IMMEDIATE": True,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_TIME_COST": 1,
        "PASSWORD_MEMORY_COST": 64,
    })
    with app.app_context():
        upgrade()
    return app


def seed(app) -> tuple[str, str]:
    """One branch, its technician and an accepted ticket: (ticket id, email)."""
    from app.cli import seed_categories
    from app.extensions import db
    from app.models import Customer, CustomerBranch, IssueSubcategory, Role, Technician
    from app.services import assignment, tickets, users

    with app.app_context():
        category = seed_categories()
        sub = db.session.query(IssueSubcategory).filter_by(category_id=category.id).first()
        customer = Customer(name="Bench Foods")
        db.session.add(customer)
        db.session.flush()
        branch = CustomerBranch(customer_id=customer.id, branch_code="B-1", branch_name="Bench branch",
                                latitude=41.3, longitude=69.2)
        db.session.add(branch)
        technician = Technician(name="Bench Tech", phone="+10000000000")
        db.session.add(technician)
        db.session.flush()
        assignment.assign_to_branch(technician.id, branch.id, True)
        dispatcher = users.create_user({"email": "d@bench.test", "password": "bench-password-1",
                                        "role": Role.DISPATCHER.value, "name": "Dispatcher"})
        tech = users.create_user({"email": "t@bench.test", "password": "bench-password-1",
                                  "role": Role.TECHNICIAN.value, "name": "Tech", "technicianId": technician.id})
        ticket = tickets.create_ticket(dispatcher, {"branchId": branch.id, "categoryId": category.id,
                                                    "subcategoryId": sub.id, "description": "bench"})
        tickets.accept(ticket, tech)
        db.session.commit()
        return ticket.id, tech.email


class InProcess:
    """Flask's test client: the whole WSGI app, no socket."""

    def __init__(self, app, email):
        self.client = app.test_client()
        r = self.client.post("/login", data={"email": email, "password": "bench-password-1"})
        assert r.status_code in (302, 303), r.status_code

    def upload(self, url, photo):
        r = self.client.post(url, data={"file": (io.BytesIO(photo), "IMG_0001.jpg", "image/jpeg"),
                                        "type": "after"}, content_type="multipart/form-data")
        return r.status_code, r.get_data(as_text=True)

    def close(self):
        pass


class OverHttp:
    """The app served by werkzeug on 127.0.0.1, requests sent over the socket."""

    def __init__(self, app, email):
        import threading

        import requests
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.session = requests.Session()
        r = self.session.post(self.base + "/login", data={"email": email, "password": "bench-password-1"},
                              allow_redirects=False)
        assert r.status_code in (302, 303), r.status_code

    def upload(self, url, photo):
        r = self.session.post(self.base + url, files={"file": ("IMG_0001.jpg", photo, "image/jpeg")},
                              data={"type": "after"})
        return r.status_code, r.text

    def close(self):
        self.server.shutdown()


def check_stored(app, ticket_id: str, expected: int) -> dict:
    """The photos and thumbnails are on disk, upright and without EXIF."""
    from PIL import Image
    from sqlalchemy import select

    from app.extensions import db
    from app.models import TicketPhoto
    from app.services.storage import get_storage

    with app.app_context():
        rows = db.session.execute(select(TicketPhoto).where(TicketPhoto.ticket_id == ticket_id)).scalars().all()
        assert len(rows) == expected, (len(rows), expected)
        storage = get_storage()
        last = rows[-1]
        full = Image.open(io.BytesIO(storage.get(last.storage_key)))
        thumb = Image.open(io.BytesIO(storage.get(last.thumb_key)))
        assert full.height > full.width and not full.getexif(), "upright, no EXIF"
        return {"stored": list(full.size), "thumb": list(thumb.size), "storedBytes": last.size_bytes}


def worker(args) -> dict:
    photo = Path(args.image).read_bytes()
    with tempfile.TemporaryDirectory(prefix="evercold-bench-") as tmpdir:
        tmp = Path(tmpdir)
        os.environ["HUEY_SQLITE_PATH"] = str(tmp / "huey.db")
        app = build_app(tmp)
        ticket_id, email = seed(app)
        transport = (OverHttp if args.http else InProcess)(app, email)
        url = f"/tech/tickets/{ticket_id}/photos"
        out = {"transport": "http" if args.http else "wsgi", "photoBytes": len(photo)}
        try:
            if args.measure == "time":
                status, body = transport.upload(url, photo)  # warm-up: imports, first connection
                assert status == 201, (status, body[:300])
                times, cpu = [], []
                for _ in range(args.runs):
                    t0, c0 = time.perf_counter(), time.process_time()
                    status, body = transport.upload(url, photo)
                    times.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                    assert status == 201, (status, body[:300])
                out["seconds"] = times
                out["cpuSeconds"] = cpu
                out.update(check_stored(app, ticket_id, args.runs + 1))
            else:
                out["rssBeforeMB"] = rss_mb()
                import tracemalloc

                tracemalloc.start()
                status, body = transport.upload(url, photo)
                assert status == 201, (status, body[:300])
                out["tracemallocPeakMB"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                for _ in range(max(1, args.runs - 1)):
                    status, body = transport.upload(url, photo)
                    assert status == 201, (status, body[:300])
                out["rssPeakMB"] = rss_mb()
                out.update(check_stored(app, ticket_id, max(1, args.runs - 1) + 1))
        finally:
            transport.close()
    return out


# --- the parent -----------------------------------------------------------------

def run_worker(image: Path, measure: str, runs: int, http: bool) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--image", str(image), "--measure", measure, "--runs", str(runs)]
    if http:
        cmd.append("--http")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker failed ({measure})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="4000x3000", help="photo size in pixels, WxH (default 12 MP)")
    parser.add_argument("--http", action="store_true", help="send over a loopback socket (werkzeug)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["time", "memory"], default="time", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return

    width, height = (int(x) for x in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="evercold-bench-photo-") as tmpdir:
        image = Path(tmpdir) / "photo.jpg"
        image.write_bytes(make_photo(width, height))
        timing = run_worker(image, "time", args.runs, args.http)
        memory = run_worker(image, "memory", min(args.runs, 3), args.http)

    seconds = timing["seconds"]
    median = statistics.median(seconds)
    report = {
        "photo": f"{width}x{height} ({width * height / 1e6:.1f} MP) JPEG, {timing['photoBytes'] / 1e6:.2f} MB, "
                 "EXIF orientation 6 + GPS",
        "transport": timing["transport"],
        "runs": len(seconds),
        "medianSeconds": round(median, 3),
        "minSeconds": round(min(seconds), 3),
        "maxSeconds": round(max(seconds), 3),
        "medianCpuSeconds": round(statistics.median(timing["cpuSeconds"]), 3),
        "loadAverage": round(os.getloadavg()[0], 2),
        "stored": timing["stored"], "thumbnail": timing["thumb"], "storedBytes": timing["storedBytes"],
        "workerRssBeforeMB": round(memory["rssBeforeMB"], 1),
        "workerRssPeakMB": round(memory["rssPeakMB"], 1),
        "tracemallocPeakMB": round(memory["tracemallocPeakMB"], 1),
        "goal": f"median < {GOAL_SECONDS} s, worker peak < {GOAL_MB} MB",
        "met": median < GOAL_SECONDS and memory["rssPeakMB"] < GOAL_MB,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
