"""The one download route of attachments, the Jinja helpers that list them and the multi-file form field."""
from __future__ import annotations

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from wtforms import MultipleFileField

from app.actor import current_actor
from app.admin.downloads import file_response
from app.errors import InvalidInput
from app.interface import parse_id
from app.services import attachments as service


class AttachmentView(BaseView):
    """GET /attachments/<id>/download: in the viewer's scope (or their own upload), else 404."""

    route_base = "/attachments"
    class_permission_name = "Attachment"
    method_permission_name = {"download": "read"}

    @expose("/<pk>/download")
    @has_access
    def download(self, pk):
        row = service.for_download(parse_id(pk), current_actor())
        return file_response(service.open_content(row), row.original_name, row.content_type, row.size)


class AttachmentsField(MultipleFileField):
    """Several files in one input; ``checked()`` runs the attachment checks (InvalidInput names the file)."""

    def checked(self) -> list[service.CheckedFile]:
        try:
            return service.check_uploads(self.data or [])
        except InvalidInput as exc:
            exc.field = self.name
            raise


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(AttachmentView)
    from flask import current_app

    current_app.jinja_env.globals.update(
        attachments_of=service.attachments_of, attachment_size=service.size_text,
        attachment_accept=service.ACCEPT, attachment_help=service.upload_help,
    )
