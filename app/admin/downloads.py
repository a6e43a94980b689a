"""Every file the product hands out leaves through here: as an attachment, never sniffed, never cached."""
from __future__ import annotations

import re
import unicodedata
from typing import BinaryIO, Iterator, Optional
from urllib.parse import quote

from flask import Response


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the real (e.g. Chinese) name RFC 5987-encoded."""
    name = unicodedata.normalize("NFC", filename or "download")
    name = re.sub(r'[\x00-\x1f\x7f"\\/]', "_", name)
    stem, dot, ext = name.rpartition(".")
    fallback = name.encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", fallback).strip("._") or "download"
    if dot and not fallback.lower().endswith("." + ext.lower()) and ext.isascii():
        fallback = f"download.{ext}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _chunks(fileobj: BinaryIO, size: int = 256 * 1024) -> Iterator[bytes]:
    try:
        while True:
            data = fileobj.read(size)
            if not data:
                break
            yield data
    finally:
        fileobj.close()


def file_response(fileobj: BinaryIO, filename: str, content_type: str, length: Optional[int] = None) -> Response:
    """Stream a file object (closed afterwards) as a download."""
    response = Response(_chunks(fileobj), mimetype=content_type, direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if length is not None:
        response.content_length = length
    return response
