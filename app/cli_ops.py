"""flask backup | restore: a consistent copy of the SQLite database and the photos.

PostgreSQL deployments back up with pg_dump / pg_restore and object-storage
versioning instead (docs/operations.md); these commands cover the embedded default.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import click
from flask import current_app

from app import clock


def _sqlite_path() -> Path:
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        raise click.ClickException("backup/restore here is for SQLite; use pg_dump/pg_restore for PostgreSQL")
    return Path(uri.replace("sqlite:///", "", 1))


def backup_to(target: Path) -> dict:
    """Online backup (SQLite's backup API: consistent while the app runs) + photo files."""
    db_path = _sqlite_path()
    target.mkdir(parents=True, exist_ok=False)
    src = sqlite3.connect(str(db_path))
    dst = sqlite3.connect(str(target / "evercold.db"))
    with dst:
        src.backup(dst)
    counts = {}
    for table in ("service_tickets", "ticket_events", "ticket_photos", "service_completions", "users"):
        counts[table] = dst.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    src.close()
    dst.close()
    uploads = Path(current_app.config["UPLOAD_DIR"])
    files = 0
    if uploads.exists():
        shutil.copytree(uploads, target / "uploads")
        files = sum(1 for p in (target / "uploads").rglob("*") if p.is_file())
    manifest = {"createdAt": clock.now().isoformat(), "counts": counts, "files": files}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def restore_from(source: Path) -> dict:
    """Replace the database and photos with a backup (the app must be stopped)."""
    from app.extensions import db

    manifest = json.loads((source / "manifest.json").read_text())
    db.session.remove()
    db.engine.dispose()
    db_path = _sqlite_path()
    for suffix in ("-wal", "-shm"):
        try:
            os.remove(str(db_path) + suffix)
        except FileNotFoundError:
            pass
    src = sqlite3.connect(str(source / "evercold.db"))
    dst = sqlite3.connect(str(db_path))
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    uploads = Path(current_app.config["UPLOAD_DIR"])
    if uploads.exists():
        shutil.rmtree(uploads)
    if (source / "uploads").exists():
        shutil.copytree(source / "uploads", uploads)
    return manifest


def register_ops_cli(app) -> None:
    @app.cli.command("backup")
    @click.argument("target", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(target):
        """Copy the SQLite database (online) and the photos into TARGET (a new folder)."""
        manifest = backup_to(target)
        click.echo(json.dumps(manifest))

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Confirm: this replaces the current database and photos.")
    def restore_command(source, yes):
        """Replace the database and photos with the backup in SOURCE (stop the app first)."""
        if not yes:
            raise click.ClickException("This replaces all current data; run again with --yes to confirm")
        manifest = restore_from(source)
        click.echo(json.dumps(manifest))
