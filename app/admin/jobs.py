"""我的任务: the viewer's own background jobs with live progress, and their result files (owner only)."""
from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.admin.downloads import file_response
from app.errors import NotFound
from app.extensions import db
from app.interface import parse_id
from app.io.xlsx import XLSX_MIMETYPE
from app.models import Job, JobStatus
from app.storage import get_storage

#: jobs listed on the page (newest first)
LISTED = 50


def own_job(pk) -> Job:
    """The viewer's own job; anyone else's (or none) is 404."""
    job_id = parse_id(pk)
    job = db.session.get(Job, job_id) if job_id else None
    if job is None or job.owner_id is None or job.owner_id != getattr(g.user, "id", None):
        raise NotFound()
    return job


def job_state(job: Job) -> dict:
    """What the progress bar shows."""
    percent = 100 if job.status == JobStatus.succeeded else (
        min(99, int(job.done * 100 / job.total)) if job.total else 0)
    return {
        "id": job.id, "status": job.status.value, "status_label": str(job.status.label), "done": job.done,
        "total": job.total, "percent": percent, "message": job.message or "",
        "finished": job.status in (JobStatus.succeeded, JobStatus.failed),
        "download_url": url_for("JobView.download", pk=job.id) if job.result_file and
        job.status == JobStatus.succeeded else None,
    }


class JobView(BaseView):
    route_base = "/jobs"
    default_view = "list"
    class_permission_name = "Job"
    method_permission_name = {"list": "read", "status": "read", "download": "read"}

    @expose("/")
    @has_access
    def list(self):
        from app.jobs.runner import reap_abandoned

        reap_abandoned()
        jobs = db.session.scalars(select(Job).where(Job.owner_id == g.user.id).order_by(Job.id.desc())
                                  .limit(LISTED)).all()
        return self.render_template("jobs/list.html", title=_("My jobs"), jobs=[job_state(j) | {"job": j}
                                                                                for j in jobs],
                                    highlight=parse_id(request.args.get("highlight")))

    @expose("/<pk>/status")
    @has_access
    def status(self, pk):
        job = own_job(pk)
        if job.status == JobStatus.running:
            from app.jobs.runner import reap_abandoned

            if reap_abandoned():
                db.session.refresh(job)
        response = jsonify(job_state(job))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<pk>/download")
    @has_access
    def download(self, pk):
        job = own_job(pk)
        if job.status != JobStatus.succeeded or not job.result_file:
            raise NotFound()
        try:
            handle = get_storage().open(job.result_file)
        except FileNotFoundError:
            raise NotFound() from None
        mimetype = XLSX_MIMETYPE if job.result_file.endswith(".xlsx") else (
            "application/pdf" if job.result_file.endswith(".pdf") else "application/octet-stream")
        return file_response(handle, job.result_name or job.result_file, mimetype)


def register(appbuilder) -> None:
    from app.navigation import MY_JOBS, category

    appbuilder.add_view(JobView, "My job list", label=_l("My jobs"), icon="fa-tasks", **category(MY_JOBS))
