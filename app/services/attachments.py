"""Attachments of any record: checked by extension and content, stored under server names, audited.

A file is accepted when its extension is on the allow-list *and* its bytes are what the extension says
(a PDF header, a PNG signature, an OLE2 or a zip container holding a Word or Excel document...); zips are
opened and unpacked (to nowhere) with a budget, so an archive that claims or expands to too much, has
too many entries or is corrupt is refused. The size limit is ``MAX_UPLOAD_BYTES``. Bytes go to the file
store (``app/storage.py``) under a generated name; the row keeps the original name, size, SHA-256, the
content type of the extension, the uploader and the owner's organisation path (the scope of downloads).
Stored files follow the database transaction: written files are removed again if it rolls back, and
replaced or deleted files disappear only once it commits.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.actor import Actor
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Attachment
from app.services import audit
from app.services.transaction import transaction
from app.storage import delete_after_commit, get_storage, new_name, track_new

#: extension -> the content type files of it are served with
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "zip": "application/zip",
}
ACCEPT = ",".join(f".{ext}" for ext in CONTENT_TYPES)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: a member an Office Open XML container of each kind must hold
OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
#: longest original file name kept (characters)
MAX_NAME_CHARS = 100
CHUNK = 1024 * 1024


def size_text(n: int) -> str:
    """20971520 -> '20 MB' (the configured limit, as messages show it)."""
    if n >= 1024 * 1024:
        value = n / (1024 * 1024)
        return f"{value:g} MB" if value == int(value) else f"{value:.1f} MB"
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} B"


def max_upload_bytes() -> int:
    return int(current_app.config.get("MAX_UPLOAD_BYTES", 20 * 1024 * 1024))


def upload_help() -> str:
    """The hint under every file input: what is accepted and how large."""
    return _("PDF, Word, Excel, JPG/PNG images or zip archives, at most %(size)s each",
             size=size_text(max_upload_bytes()))


# ------------------------------------------------------------------ checking
@dataclass
class CheckedFile:
    """An upload that passed every check, spooled to a temporary file, not stored yet."""

    original_name: str
    extension: str
    content_type: str
    size: int
    sha256: str
    data: BinaryIO

    def close(self) -> None:
        self.data.close()


def _refuse(message: str):
    raise InvalidInput(message)


def check_name(raw: Optional[str]) -> tuple[str, str]:
    """The original name as shown later, and its extension; path tricks and odd names are refused."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        _refuse(_("Please choose a file"))
    if any(ch in name for ch in "/\\\x00") or ".." in name or name.startswith(".") or any(
            unicodedata.category(ch)[0] == "C" for ch in name):
        _refuse(_("The file name is not allowed; please rename the file (no slashes, leading dots or control characters)"))
    if len(name) > MAX_NAME_CHARS:
        _refuse(_("The file name is too long (at most %(n)d characters); please rename the file", n=MAX_NAME_CHARS))
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in CONTENT_TYPES:
        _refuse(_("File type not allowed (pdf, doc, docx, xls, xlsx, jpg, png, zip)"))
    return name, extension


def check_zip(fileobj: BinaryIO, *, must_hold: Optional[str] = None) -> None:
    """A real archive whose entry count and unpacked size stay bounded (unpacked for real, to nowhere)."""
    config = current_app.config
    max_entries = int(config.get("ZIP_MAX_ENTRIES", 2000))
    max_bytes = int(config.get("ZIP_MAX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024))
    too_big = _("The archive unpacks to more than %(size)s or holds more than %(n)d files; it is refused",
                size=size_text(max_bytes), n=max_entries)
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            entries = archive.infolist()
            if len(entries) > max_entries or sum(e.file_size for e in entries) > max_bytes:
                _refuse(too_big)
            if must_hold is not None and must_hold not in {e.filename for e in entries}:
                _refuse(_("The file content does not match its type"))
            budget = max_bytes
            for entry in entries:
                if entry.flag_bits & 0x1:
                    _refuse(_("Encrypted archives cannot be checked; please upload an unencrypted one"))
                with archive.open(entry) as member:
                    while True:
                        chunk = member.read(CHUNK)
                        if not chunk:
                            break
                        budget -= len(chunk)
                        if budget < 0:
                            _refuse(too_big)
    except InvalidInput:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError):
        _refuse(_("The file content does not match its type"))
    finally:
        fileobj.seek(0)


def check_content(extension: str, data: BinaryIO) -> None:
    """The bytes are what the extension says."""
    data.seek(0)
    head = data.read(16)
    data.seek(0)
    mismatch = _("The file content does not match its type")
    if extension == "pdf":
        ok = head.startswith(b"%PDF-")
    elif extension == "png":
        ok = head.startswith(b"\x89PNG\r\n\x1a\n")
    elif extension in ("jpg", "jpeg"):
        ok = head.startswith(b"\xff\xd8\xff")
    elif extension in ("doc", "xls"):
        ok = head.startswith(OLE2)
    elif extension in ("zip", "docx", "xlsx"):
        if not head.startswith(b"PK\x03\x04"):
            _refuse(mismatch)
        check_zip(data, must_hold=OOXML_PART.get(extension))
        ok = True
    else:  # pragma: no cover - the allow-list and this function move together
        ok = False
    if not ok:
        _refuse(mismatch)


def check_upload(filename: Optional[str], stream: BinaryIO) -> CheckedFile:
    """Name, size and content checked; the bytes spooled (and hashed) once. Raises InvalidInput."""
    name, extension = check_name(filename)
    limit = max_upload_bytes()
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    digest = hashlib.sha256()
    size = 0
    try:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                _refuse(_("The file is too large (at most %(size)s)", size=size_text(limit)))
            digest.update(chunk)
            spool.write(chunk)
        if size == 0:
            _refuse(_("The file is empty"))
        check_content(extension, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return CheckedFile(name, extension, CONTENT_TYPES[extension], size, digest.hexdigest(), spool)


def check_uploads(files: Iterable) -> list[CheckedFile]:
    """Every werkzeug FileStorage with a name, checked; the first refusal names its file."""
    checked: list[CheckedFile] = []
    try:
        for upload in files:
            if upload is None or not getattr(upload, "filename", None):
                continue
            try:
                checked.append(check_upload(upload.filename, upload.stream))
            except InvalidInput as exc:
                raise InvalidInput(f"{_display(upload.filename)}：{exc.message}") from None
    except BaseException:
        for item in checked:
            item.close()
        raise
    return checked


def _display(name: str) -> str:
    """A refused name as a message may quote it: short and free of control characters."""
    text = "".join(ch for ch in (name or "") if unicodedata.category(ch)[0] != "C")
    return text if len(text) <= 40 else text[:37] + "…"


# ------------------------------------------------------------------ storing (follows the transaction)
def _store(checked: CheckedFile) -> str:
    name = new_name(checked.extension)
    checked.data.seek(0)
    get_storage().put(name, checked.data)
    track_new(name)
    return name


def attach(owner_kind: str, owner_id: int, org_path: str, files: list[CheckedFile], *, actor: Actor,
           ) -> list[Attachment]:
    """Store checked files as attachments of a record, in the caller's transaction (or one of their own)."""
    rows = []
    with transaction():
        for checked in files:
            row = Attachment(owner_kind=owner_kind, owner_id=owner_id, org_path=org_path or "",
                             original_name=checked.original_name, server_name=_store(checked),
                             size=checked.size, sha256=checked.sha256, content_type=checked.content_type,
                             uploaded_by_id=actor.id, uploaded_on=datetime.datetime.now())
            db.session.add(row)
            rows.append(row)
        db.session.flush()
        for row in rows:
            audit.record("attach_file", row, actor=actor, object_type="attachment", org_path_value=row.org_path,
                         after=_described(row))
    for checked in files:
        checked.close()
    return rows


def _described(row: Attachment) -> dict:
    return {"owner_kind": row.owner_kind, "owner_id": row.owner_id, "original_name": row.original_name,
            "size": row.size, "sha256": row.sha256}


def attachments_of(owner_kind: str, owner_id: int) -> list[Attachment]:
    """A record's files, oldest first."""
    return list(db.session.scalars(
        select(Attachment).where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id)
        .order_by(Attachment.id)))


def owner_model(owner_kind: str):
    """The table of the record that owns files of this kind (a review kind's items), or None."""
    from app.workflow.kinds import load

    base = owner_kind.split(":", 1)[0]
    for kind in load().values():
        if kind.object_type == base:
            return kind.model
    return None


def visible(row: Optional[Attachment], actor: Actor) -> bool:
    """The actor sees the owning record (by its own scope rule: a transfer is seen by both sides), or the
    file lies in the actor's scope, or the actor uploaded it."""
    from app.scope import apply_scope

    if row is None:
        return False
    if actor.scope.covers_path(row.org_path) or (actor.id is not None and row.uploaded_by_id == actor.id):
        return True
    model = owner_model(row.owner_kind)
    if model is None or actor.scope.is_none:
        return False
    return db.session.scalar(apply_scope(select(model.id).where(model.id == row.owner_id), model,
                                         actor.scope)) is not None


def for_download(attachment_id: Optional[int], actor: Actor) -> Attachment:
    """The row to serve; NotFound when unknown or outside what the actor may see."""
    row = db.session.get(Attachment, attachment_id) if attachment_id else None
    if not visible(row, actor):
        raise NotFound()
    return row


def replace(attachment_id: int, checked: CheckedFile, *, actor: Actor) -> Attachment:
    """New content for an attachment (same record); the old bytes go once the change commits. Audited."""
    with transaction():
        row = for_download(attachment_id, actor)
        before = _described(row)
        old_name = row.server_name
        row.server_name = _store(checked)
        row.original_name, row.size, row.sha256 = checked.original_name, checked.size, checked.sha256
        row.content_type = checked.content_type
        row.uploaded_by_id, row.uploaded_on = actor.id, datetime.datetime.now()
        db.session.flush()
        audit.record("replace_file", row, actor=actor, object_type="attachment", org_path_value=row.org_path,
                     before=before, after=_described(row))
        delete_after_commit(old_name)
    checked.close()
    return row


def delete(attachment_id: int, *, actor: Actor) -> None:
    """Remove an attachment; its bytes go once the deletion commits. Audited."""
    with transaction():
        row = for_download(attachment_id, actor)
        audit.record("delete_file", row, actor=actor, object_type="attachment", object_id=row.id,
                     org_path_value=row.org_path, before=_described(row))
        delete_after_commit(row.server_name)
        db.session.delete(row)
        db.session.flush()


def open_content(row: Attachment) -> BinaryIO:
    """The stored bytes; NotFound when the file store lost them."""
    try:
        return get_storage().open(row.server_name)
    except FileNotFoundError:
        raise NotFound() from None


def checked_bytes(name: str, data: bytes) -> CheckedFile:
    """Check in-memory bytes as an upload (seeding, imports of generated files)."""
    return check_upload(name, io.BytesIO(data))


__all__ = ["ACCEPT", "CONTENT_TYPES", "CheckedFile", "attach", "attachments_of", "check_upload", "check_uploads",
           "checked_bytes", "delete", "for_download", "open_content", "replace", "size_text", "upload_help",
           "visible"]
