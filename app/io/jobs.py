"""The background tasks of app/io: exports and imports (both stages: check, then commit)."""
from __future__ import annotations

import json
import os
import tempfile

from flask_babel import gettext as _

from app.errors import InvalidInput
from app.io import imports
from app.io import credit_import  # noqa: F401 - registers the 学时 import
from app.io import person_import  # noqa: F401 - registers the 专技人员 import
from app.io import sources  # noqa: F401 - registers the export sources
from app.io.export import file_name, max_rows, spec_for, write_export
from app.jobs import JobContext, JobOutcome, task
from app.storage import delete_after_commit, get_storage


@task("export")
def export_task(ctx: JobContext) -> JobOutcome:
    """Write an export source to a file, reporting progress as rows stream out."""
    spec = spec_for(ctx.params.get("source", ""), ctx.actor, ctx.params.get("params") or {})
    if not ctx.total:
        ctx.progress(0, spec.count(max_rows()))
    path, written = write_export(spec, progress=ctx.progress)
    ctx.progress(written, max(written, ctx.total))
    return JobOutcome(message=_("%(n)d rows exported", n=written), file_path=path, file_name=file_name(spec.title))


def open_upload(name: str):
    try:
        return get_storage().open(name)
    except FileNotFoundError:
        raise InvalidInput(_("The uploaded file is no longer available; please upload it again")) from None


def _rejected(importer, report) -> tuple[str | None, str | None]:
    if not report.errors:
        return None, None
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="rejected-")
    os.close(fd)
    imports.rejected_file(importer, report, path)
    return path, file_name(_("%(title)s rejected rows", title=importer.title))


@task("import")
def import_task(ctx: JobContext) -> JobOutcome:
    """Stage "check": validate and report. Stage "commit": validate again and insert the good rows."""
    importer = imports.importer_named(ctx.params.get("importer", ""))
    try:
        with open_upload(ctx.params.get("file", "")) as handle:
            report = imports.check(importer, handle, ctx.actor, progress=ctx.progress)
    except InvalidInput:
        get_storage().delete(ctx.params.get("file", ""))  # a file that cannot be imported is not kept
        raise
    summary = report.summary()
    path, name = _rejected(importer, report)
    if ctx.params.get("stage") == "commit":
        count = imports.commit(importer, report, ctx.actor, ctx.params.get("file_name", ""))
        delete_after_commit(ctx.params["file"])  # the upload is spent once its rows are in
        summary["imported"] = count
        message = _("%(n)d rows imported", n=count)
        if report.bad_rows:
            message += "；" + _("%(n)d rows with errors were not imported", n=len(report.bad_rows))
    else:
        message = _("%(total)d rows checked: %(good)d can be imported, %(bad)d have errors",
                    total=report.total, good=len(report.good), bad=len(report.bad_rows))
    return JobOutcome(message=message, result=json.loads(json.dumps(summary, default=str)), file_path=path,
                      file_name=name)
