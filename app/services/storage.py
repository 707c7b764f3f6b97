"""Where photo and signature files live. Local files by default (instance/uploads),
behind an interface so object storage can stand in for it in production."""
from __future__ import annotations

import errno
import logging
import os
import re
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from app.services.errors import DomainError

log = logging.getLogger(__name__)


class StorageFull(DomainError):
    """The disk (or quota) is full: nothing was stored."""
    status = 507


class StorageUnavailable(DomainError):
    """The file store could not be written or reached: nothing was stored."""
    status = 503




def _full() -> StorageFull:
    return StorageFull(_("Could not store the file: the storage is full. Nothing was saved; please try again later"),
                       {"file": _("The storage is full; nothing was saved.")})


def _down() -> StorageUnavailable:
    return StorageUnavailable(_("Could not store the file: the storage is unavailable. Nothing was saved; please try again"),
                              {"file": _("The storage is unavailable; nothing was saved.")})

_KEY = re.compile(r"^[a-z0-9][a-z0-9/_.-]{0,190}$")


class LocalStorage:
    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key:
            raise ValueError("bad storage key")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = path.with_suffix(path.suffix + ".part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            # Never leave a half-written file behind (disk full, read-only, I/O error).
            try:
                tmp.unlink()
            except OSError:
                pass
            log.error("storage: could not write %s: %s", key, exc)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _full() from exc
            raise _down() from exc

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass


def _s3_class():
    from app.services.storage_s3 import S3Storage

    class GuardedS3Storage(S3Storage):
        """S3Storage whose failed writes become a clear 503 (nothing stored)."""

        def put(self, key: str, data: bytes) -> None:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                super().put(key, data)
            except (BotoCoreError, ClientError) as exc:
                log.error("storage: could not write %s to the bucket: %s", key, exc)
                raise _down() from exc

    return GuardedS3Storage


def get_storage():
    """The configured store: S3Storage when STORAGE_BACKEND=s3, LocalStorage otherwise.

    The S3 client is built once per app and configuration (building a boto3 client
    costs tens of milliseconds) and shared by threads (boto3 clients are thread-safe)."""
    cfg = current_app.config
    if (cfg.get("STORAGE_BACKEND") or "local").lower() != "s3":
        return LocalStorage(cfg["UPLOAD_DIR"])
    ident = tuple(cfg.get(k) for k in ("S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL", "S3_REGION",
                                        "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"))
    cache = current_app.extensions.setdefault("evercold_storage", {})
    store = cache.get(ident)
    if store is None:
        if not cfg.get("S3_BUCKET"):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        store = _s3_class()(
            cfg["S3_BUCKET"], prefix=cfg.get("S3_PREFIX") or "", endpoint_url=cfg.get("S3_ENDPOINT_URL"),
            region=cfg.get("S3_REGION"), access_key=cfg.get("S3_ACCESS_KEY_ID"),
            secret_key=cfg.get("S3_SECRET_ACCESS_KEY"),
        )
        cache[ident] = store
    return store
