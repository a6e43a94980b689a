"""The file store: bytes of uploads and job results under server-generated names, behind a small interface.

The embedded default keeps files in a local folder outside the static folder (``STORAGE_ROOT``, by default
``instance/files``). A deployment with several app hosts plugs in a shared store (an S3-compatible object
store) implementing the same four operations; nothing else in the product touches files directly.
"""
from __future__ import annotations

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


def get_storage(app=None) -> Storage:
    """The app's file store (one per app, built on first use from ``STORAGE_ROOT``)."""
    app = app or current_app._get_current_object()
    store: Optional[Storage] = app.extensions.get("jijiao_storage")
    if store is None:
        root = app.config.get("STORAGE_ROOT") or os.path.join(app.instance_path, "files")
        store = app.extensions["jijiao_storage"] = LocalStorage(root)
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
