"""Excel import pages, the same for every import: template, upload, preview of bad rows, commit or cancel.

A subclass names its importer (``app/io/``) and the list it returns to. Checking and committing are
jobs of kind "import": run at once in the request for small files, in the background above
``IMPORT_SYNC_MAX_ROWS`` rows (the preview page then shows a progress bar and reloads when done).
"""
from __future__ import annotations

import io
import json

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from app.actor import current_actor
from app.admin.downloads import file_response
from app.admin.jobs import job_state, own_job
from app.errors import InvalidInput, NotFound
from app.io import imports
from app.io.reader import inspect_workbook, not_xlsx
from app.io.templates import build_template
from app.io.xlsx import XLSX_MIMETYPE
from app.jobs import params_of, submit
from app.jobs.runner import run_job
from app.models import JobStatus
from app.services.attachments import check_upload
from app.storage import get_storage, new_name


class UploadForm(FlaskForm):
    file = FileField()


class ImportView(BaseView):
    """Base of every import page; subclasses set ``importer_name`` and ``back_endpoint``."""

    importer_name: str = ""
    back_endpoint: str = ""
    default_view = "index"
    method_permission_name = {"index": "write", "template": "write", "upload": "write", "preview": "write",
                              "commit": "write", "cancel": "write"}

    def _importer(self) -> imports.Importer:
        import app.io.jobs  # noqa: F401 - registers every importer

        return imports.importer_named(self.importer_name)

    def _page(self, template: str, **context):
        importer = self._importer()
        return self.render_template(template, importer=importer, back=url_for(self.back_endpoint),
                                    endpoint=self.endpoint, **context)

    @expose("/")
    @has_access
    def index(self):
        limit = current_app.config.get("IMPORT_MAX_ROWS", 100_000)
        return self._page("imports/index.html", title=_("Import %(title)s", title=self._importer().title),
                          form=UploadForm(), max_rows=limit)

    @expose("/template")
    @has_access
    def template(self):
        data = build_template(self._importer())
        name = _("%(title)s import template", title=self._importer().title) + ".xlsx"
        return file_response(io.BytesIO(data), name, XLSX_MIMETYPE, len(data))

    def _run(self, params: dict, rows: int, title: str):
        """A job of kind "import": at once when small, else in the background."""
        actor = current_actor()
        inline = rows <= int(current_app.config.get("IMPORT_SYNC_MAX_ROWS", 2000))
        job = submit("import", actor=actor, title=title, params=params, total=rows, dispatch=not inline)
        if inline:
            run_job(job.id, current_app._get_current_object())
        return redirect(url_for(f"{self.endpoint}.preview", pk=job.id))

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self):
        form = UploadForm()
        upload = request.files.get("file")
        if not form.validate_on_submit() or upload is None or not upload.filename:
            flash(_("Please choose the filled-in template (.xlsx)"), "danger")
            return redirect(url_for(f"{self.endpoint}.index"))
        try:
            head = upload.stream.read(4)
            upload.stream.seek(0)
            if not upload.filename.lower().endswith(".xlsx") or head != b"PK\x03\x04":
                raise not_xlsx()
            checked = check_upload(upload.filename, upload.stream)
        except InvalidInput as exc:
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.index"))
        try:
            rows = inspect_workbook(checked.data, int(current_app.config.get("IMPORT_MAX_ROWS", 100_000))) - 1
        except InvalidInput as exc:
            checked.close()
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.index"))
        stored = new_name("xlsx")
        get_storage().put(stored, checked.data)
        checked.close()
        params = {"importer": self.importer_name, "file": stored, "file_name": checked.original_name,
                  "stage": "check"}
        return self._run(params, max(rows, 0), _("Check import: %(name)s", name=checked.original_name))

    def _own_import(self, pk):
        job = own_job(pk)
        params = params_of(job)
        if job.kind != "import" or params.get("importer") != self.importer_name:
            raise NotFound()
        return job, params

    @expose("/preview/<pk>")
    @has_access
    def preview(self, pk):
        job, params = self._own_import(pk)
        summary = json.loads(job.result) if job.result else None
        return self._page("imports/preview.html", title=_("Import %(title)s", title=self._importer().title), job=job,
                          state=job_state(job), params=params, summary=summary,
                          finished=job.status in (JobStatus.succeeded, JobStatus.failed))

    @expose("/commit/<pk>", methods=["POST"])
    @has_access
    def commit(self, pk):
        job, params = self._own_import(pk)
        summary = json.loads(job.result) if job.result else {}
        if job.status != JobStatus.succeeded or params.get("stage") != "check" or not summary.get("good"):
            raise InvalidInput(_("This import cannot be committed"))
        if not get_storage().exists(params["file"]):
            raise InvalidInput(_("The uploaded file is no longer available; please upload it again"))
        commit_params = dict(params, stage="commit", preview=job.id)
        return self._run(commit_params, int(summary.get("total", 0)),
                         _("Import: %(name)s", name=params.get("file_name", "")))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        _job, params = self._own_import(pk)
        get_storage().delete(params.get("file", ""))
        flash(_("The import was cancelled; nothing was changed"), "info")
        return redirect(url_for(f"{self.endpoint}.index"))
