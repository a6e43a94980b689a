"""The file store: bytes of uploads and job results under server-generated names, behind a small interface.

The embedded default keeps files in a local folder outside the static folder (``STORAGE_ROOT``, by default
``instance/files``). A deployment with several app hosts sets ``STORAGE_BACKEND=s3`` and keeps them in an
S3-compatible object store (``S3Storage``: ``S3_BUCKET``, ``S3_ENDPOINT_URL``, ``S3_REGION``, credentials
from ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) implementing the same four operations; nothing else
in the product touches files directly.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import uuid
from typing import BinaryIO, Optional, Protocol

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

#: what a server name looks like: 32 hex characters and an optional short extension
SERVER_NAME = re.compile(r"[0-9a-f]{32}(\.[a-z0-9]{1,5})?")


class Storage(Protocol):
    """Four operations by server name; names come from ``new_name`` only."""

    def put(self, name: str, source: BinaryIO | str) -> None:
        """Store a rewound binary file object or the file at a local path (which is moved in)."""

    def open(self, name: str) -> BinaryIO:
        """A binary file object to read from; FileNotFoundError when absent."""

    def delete(self, name: str) -> None:
        """Remove (no error when absent)."""

    def exists(self, name: str) -> bool:
        ...

    def check(self) -> bool:
        """Whether the store answers and takes writes (for /readyz)."""


def new_name(extension: str = "") -> str:
    """A fresh server name; never derived from anything a user typed."""
    extension = (extension or "").lower().lstrip(".")
    return uuid.uuid4().hex + (f".{extension}" if extension else "")


def check_name(name: str) -> str:
    """Only names this module generated resolve; anything else (a path, '..') is unknown."""
    if not isinstance(name, str) or not SERVER_NAME.fullmatch(name):
        raise FileNotFoundError(name)
    return name


class LocalStorage:
    """Files in one folder; writes go to a temporary file first, so a reader never sees half a file."""

    def __init__(self, root: str):
        self.root = root

    def _path(self, name: str) -> str:
        return os.path.join(self.root, check_name(name))

    def put(self, name: str, source) -> None:
        target = self._path(name)
        os.makedirs(self.root, exist_ok=True)
        if isinstance(source, (str, os.PathLike)):
            shutil.move(os.fspath(source), target)
            return
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")

    def delete(self, name: str) -> None:
        try:
            os.remove(self._path(name))
        except FileNotFoundError:
            pass

    def exists(self, name: str) -> bool:
        try:
            return os.path.isfile(self._path(name))
        except FileNotFoundError:
            return False

    def check(self) -> bool:
        os.makedirs(self.root, exist_ok=True)
        return os.path.isdir(self.root) and os.access(self.root, os.W_OK)


class S3File(io.RawIOBase):
    """An object's bytes, streamed as they are read; the first seek fetches it into a spooled temporary
    file (workbooks and zips are read by seeking; downloads only stream)."""

    def __init__(self, store: "S3Storage", name: str, body):
        super().__init__()
        self._store, self._name, self._body = store, name, body
        self._spool = None
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._spool is not None:
            return self._spool.readinto(buffer)
        data = self._body.read(len(buffer))
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def _spooled(self):
        if self._spool is None:
            spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
            self._store.client.download_fileobj(self._store.bucket, self._name, spool)
            self._body.close()
            spool.seek(self._pos)
            self._spool = spool
        return self._spool

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._spooled().seek(offset, whence)

    def tell(self) -> int:
        return self._spool.tell() if self._spool is not None else self._pos

    def close(self) -> None:
        if not self.closed:
            self._body.close()
            if self._spool is not None:
                self._spool.close()
        super().close()


class S3Storage:
    """Objects in one bucket of an S3-compatible store, named by server name; shared by every app host."""

    def __init__(self, bucket: str, endpoint_url: Optional[str] = None, region: str = "us-east-1"):
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        # short timeouts: an unreachable store answers 503 quickly instead of holding a worker
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
                                   config=BotoConfig(connect_timeout=3, read_timeout=30,
                                                     retries={"max_attempts": 2, "mode": "standard"},
                                                     s3={"addressing_style": "path"}))

    @staticmethod
    def _missing(exc) -> bool:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return code in ("NoSuchKey", "404", "NotFound")

    def put(self, name: str, source) -> None:
        key = check_name(name)
        if isinstance(source, (str, os.PathLike)):
            self.client.upload_file(os.fspath(source), self.bucket, key)
            os.remove(os.fspath(source))  # a local path is moved in, as in LocalStorage
            return
        self.client.upload_fileobj(source, self.bucket, key)

    def open(self, name: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        key = check_name(name)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(name) from None
            raise
        return S3File(self, key, body)

    def delete(self, name: str) -> None:
        try:
            key = check_name(name)
        except FileNotFoundError:
            return
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_name(name))
        except FileNotFoundError:
            return False
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def check(self) -> bool:
        self.client.head_bucket(Bucket=self.bucket)
        return True


#: STORAGE_BACKEND values
BACKENDS = ("local", "s3")


def storage_from_config(config, instance_path: str) -> Storage:
    """The file store a configuration names (STORAGE_BACKEND); a wrong setting fails at start-up."""
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a non-AWS store)")
        return S3Storage(config["S3_BUCKET"], config.get("S3_ENDPOINT_URL"), config.get("S3_REGION") or "us-east-1")
    if backend != "local":
        raise RuntimeError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    return LocalStorage(config.get("STORAGE_ROOT") or os.path.join(instance_path, "files"))


def get_storage(app=None) -> Storage:
    """The app's file store (one per app, built on first use from STORAGE_BACKEND and its settings)."""
    app = app or current_app._get_current_object()
    store: Optional[Storage] = app.extensions.get("jijiao_storage")
    if store is None:
        store = app.extensions["jijiao_storage"] = storage_from_config(app.config, app.instance_path)
    return store


# ------------------------------------------------------------------ files follow the database transaction
_NEW = "storage_new_files"
_DOOMED = "storage_doomed_files"


def track_new(name: str) -> None:
    """A file written for the current transaction: removed again if it rolls back."""
    from app.extensions import db

    db.session.info.setdefault(_NEW, []).append(name)


def delete_after_commit(name: str) -> None:
    """A file the current transaction no longer needs: removed once it commits (kept if it rolls back)."""
    from app.extensions import db

    db.session.info.setdefault(_DOOMED, []).append(name)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    session.info.pop(_NEW, None)
    doomed = session.info.pop(_DOOMED, None)
    if doomed:
        store = get_storage()
        for name in doomed:
            store.delete(name)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction) -> None:
    if session.in_transaction():
        return
    session.info.pop(_DOOMED, None)
    written = session.info.pop(_NEW, None)
    if written:
        store = get_storage()
        for name in written:
            store.delete(name)
