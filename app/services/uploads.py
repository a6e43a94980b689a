"""Uploaded files: size, extension and type allow-lists; stored outside static under a server name."""
from __future__ import annotations

import os
import uuid

from flask import current_app
from flask_babel import gettext as _

from app.services.transaction import ServiceError

#: extension -> accepted content types
ALLOWED = {
    "pdf": {"application/pdf"},
    "doc": {"application/msword"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "xls": {"application/vnd.ms-excel"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    "jpg": {"image/jpeg"}, "jpeg": {"image/jpeg"}, "png": {"image/png"},
    "zip": {"application/zip", "application/x-zip-compressed"},
}
#: leading bytes of each kind, so a renamed file is refused
MAGIC = {"pdf": b"%PDF", "png": b"\x89PNG", "jpg": b"\xff\xd8\xff", "jpeg": b"\xff\xd8\xff",
         "zip": b"PK", "docx": b"PK", "xlsx": b"PK", "doc": b"\xd0\xcf\x11\xe0", "xls": b"\xd0\xcf\x11\xe0"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def upload_dir() -> str:
    path = current_app.config.get("UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


def save(storage) -> tuple[str, str]:
    """Validate and store a werkzeug FileStorage; returns (stored name, original name)."""
    original = os.path.basename(storage.filename or "")
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if ext not in ALLOWED:
        raise ServiceError(_("File type not allowed (pdf, doc, docx, xls, xlsx, jpg, png, zip)"))
    if storage.mimetype and storage.mimetype not in ALLOWED[ext] and storage.mimetype != "application/octet-stream":
        raise ServiceError(_("File type not allowed (pdf, doc, docx, xls, xlsx, jpg, png, zip)"))
    data = storage.read(current_app.config.get("MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES) + 1)
    if len(data) > current_app.config.get("MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES):
        raise ServiceError(_("The file is too large (at most 10 MB)"))
    if not data.startswith(MAGIC[ext]):
        raise ServiceError(_("The file content does not match its type"))
    stored = f"{uuid.uuid4().hex}.{ext}"
    with open(os.path.join(upload_dir(), stored), "wb") as fh:
        fh.write(data)
    return stored, original


def path_of(stored: str) -> str:
    """Only names we generated resolve; anything else is refused."""
    name = os.path.basename(stored)
    if name != stored:
        raise FileNotFoundError(stored)
    return os.path.join(upload_dir(), name)
