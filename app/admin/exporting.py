"""A page's 导出 button: download at once when small, otherwise a background job the user follows in 我的任务."""
from __future__ import annotations

import os

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from app.actor import current_actor
from app.admin.downloads import file_response
from app.io.export import XLSX_MIMETYPE, file_name, is_large, max_rows, spec_for, write_export


def export_response(source: str, params: dict):
    """The response of an export request for a registered source, in the viewer's scope."""
    actor = current_actor()
    spec = spec_for(source, actor, params)
    if is_large(spec):
        from app import jobs

        job = jobs.submit("export", actor=actor, title=_("Export: %(title)s", title=spec.title),
                          params={"source": source, "params": params}, total=spec.count(max_rows()))
        flash(_("The export is large and runs in the background; download the file in My jobs when it is finished"),
              "info")
        return redirect(url_for("JobView.list", highlight=job.id))
    path, _written = write_export(spec)
    handle = open(path, "rb")
    size = os.path.getsize(path)
    os.remove(path)  # the open handle keeps the bytes until the download finished
    return file_response(handle, file_name(spec.title), XLSX_MIMETYPE, size)
