"""The one exporter: every list, the audit log and the statistics export through here.

A page registers an *export source*: a function of (actor, params) giving the title, headers and a row
generator of its query — in the actor's scope, with the page's filters (``params``) applied. Small
exports are written and downloaded at once; above ``EXPORT_SYNC_MAX_ROWS`` the same source runs as a
background job ("export") whose result file the owner downloads from 我的任务. The file name carries
the page title and the date.
"""
from __future__ import annotations

import datetime
import os
import queue
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.actor import Actor
from app.extensions import db
from app.io.xlsx import XLSX_MIMETYPE, write_rows
from app.replica import on_replica


@dataclass
class ExportSpec:
    """What one export writes."""

    title: str
    headers: Sequence[str]
    #: called once when the file is written: a generator of row sequences
    rows: Callable[[], Iterable[Sequence]]
    #: rows it will write (capped), for the progress bar and the sync/job decision
    count: Callable[[int], int]
    widths: Optional[Sequence[float]] = None
    extra: dict = field(default_factory=dict)


#: source name -> function(actor, params) -> ExportSpec
SOURCES: dict[str, Callable[[Actor, dict], ExportSpec]] = {}


def source(name: str):
    """Register an export source."""
    def decorator(fn):
        SOURCES[name] = fn
        return fn
    return decorator


def spec_for(name: str, actor: Actor, params: dict) -> ExportSpec:
    from app.errors import NotFound
    from app.io import sources  # noqa: F401 - registers the product's sources

    if name not in SOURCES:
        raise NotFound()
    spec = SOURCES[name](actor, params)
    # exports are read-only report work: counted and read on the replica when there is one
    spec.count = on_replica()(spec.count)
    return spec


def file_name(title: str, day: Optional[datetime.date] = None) -> str:
    """'专技人员_20261201.xlsx'"""
    day = day or datetime.date.today()
    safe = "".join(ch for ch in str(title) if ch not in '\\/:*?"<>|\r\n\t').strip() or "export"
    return f"{safe}_{day:%Y%m%d}.xlsx"


def capped_count(query, cap: int) -> int:
    """COUNT that stops at the cap (a province-wide list never counts a million rows to decide)."""
    limited = query.order_by(None).limit(cap).subquery()
    return db.session.scalar(select(func.count()).select_from(limited)) or 0


def max_rows() -> int:
    return int(current_app.config.get("EXPORT_MAX_ROWS", 1_000_000))


def prefetched(make_rows: Callable[[], Iterable[Sequence]], limit: int, chunk: int = 1000, depth: int = 8):
    """The rows of a source, read by a second thread (its own session, on the replica when there is one)
    while this one writes.

    The database produces rows while the writer formats the previous ones: on two cores the export
    takes about the longer of the two instead of their sum. At most ``depth`` chunks wait in between,
    so memory stays bounded; an error of the reader is raised in the writer.
    """
    app = current_app._get_current_object()
    chunks: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def read() -> None:
        try:
            with app.app_context(), force_locale("zh"), on_replica():
                try:
                    batch, count = [], 0
                    for row in make_rows():
                        batch.append(row)
                        count += 1
                        if len(batch) >= chunk or count > limit:
                            chunks.put(batch)
                            batch = []
                            if stop.is_set() or count > limit:
                                break
                    if batch:
                        chunks.put(batch)
                finally:
                    db.session.rollback()
                    db.session.remove()
            chunks.put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the writer
            chunks.put(exc)

    reader = threading.Thread(target=read, name="export-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = chunks.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue finish
            try:
                chunks.get_nowait()
            except queue.Empty:
                reader.join(0.05)


def write_export(spec: ExportSpec, progress: Optional[Callable[[int], None]] = None) -> tuple[str, int]:
    """Write the spec to a temporary .xlsx; returns (path, rows written). The caller removes the file."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="export-")
    os.close(fd)
    limit = max_rows()
    note = _("Only the first %(n)d rows were exported; narrow the filters", n=limit)
    try:
        written = write_rows(path, title=spec.title, headers=spec.headers, rows=prefetched(spec.rows, limit),
                             widths=spec.widths, limit=limit, note=note, progress=progress)
    except BaseException:
        os.remove(path)
        raise
    return path, written


def is_large(spec: ExportSpec) -> bool:
    threshold = int(current_app.config.get("EXPORT_SYNC_MAX_ROWS", 5000))
    return spec.count(threshold + 1) > threshold


__all__ = ["ExportSpec", "SOURCES", "XLSX_MIMETYPE", "capped_count", "file_name", "is_large", "source",
           "spec_for", "write_export"]
