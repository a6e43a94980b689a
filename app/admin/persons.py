"""专技人员 records of the employer units in scope."""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from wtforms import validators

from app.admin.base import ScopedModelView
from app.admin.imports import ImportView
from app.interface import EagerInterface, parse_id
from app.models import Person
from app.roles import READ_WRITE
from app.scope import current_scope
from app.validators import IdNumber, Mobile

PERSON_LABELS = {
    "id_number": _l("ID number"),
    "name": _l("Full name"),
    "gender": _l("Gender"),
    "birth_date": _l("Birth date"),
    "phone": _l("Mobile phone"),
    "education": _l("Education"),
    "employer": _l("Employer unit"),
    "internal_department": _l("Internal department"),
    "title_series": _l("Title series"),
    "title_level": _l("Title level"),
    "title_name": _l("Title name"),
    "title_date": _l("Date obtained"),
    "status": _l("Status"),
    "account": _l("Login account"),
    "created_on": _l("Created on"),
}


class PersonView(ScopedModelView):
    route_base = "/persons"
    show_template = "persons/show.html"
    class_permission_name = "Person"
    method_permission_name = READ_WRITE
    datamodel = EagerInterface(Person)
    list_title = _l("Personnel records")
    show_title = _l("Person details")
    add_title = _l("Add person")
    edit_title = _l("Edit person")
    label_columns = PERSON_LABELS
    list_columns = ["name", "id_number", "gender", "employer", "title_series", "title_level", "status"]
    show_columns = ["name", "id_number", "gender", "birth_date", "phone", "education", "employer",
                    "internal_department", "title_series", "title_level", "title_name",
                    "title_date", "status", "created_on"]
    add_columns = ["id_number", "name", "phone", "education", "employer", "internal_department",
                   "title_series", "title_level", "title_name", "title_date"]
    #: writable fields (app/write_rules.py): status changes only by review decisions; the employer is
    #: chosen on add, a move between units is a transfer
    edit_columns = ["name", "phone", "education", "internal_department",
                    "title_series", "title_level", "title_name", "title_date"]
    search_columns = ["name", "id_number", "employer", "title_series", "title_level", "status"]
    order_columns = ["name", "id_number"]
    #: by unit, then id: the order the org_path index returns, so deep pages stay cheap
    base_order = ("org_path", "asc")
    relation_filters = {"employer": {"type": "employer"}}
    validators_columns = {
        "id_number": [validators.DataRequired(), IdNumber()],
        "name": [validators.DataRequired()],
        "phone": [validators.Optional(), Mobile()],
        "employer": [validators.DataRequired()],
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The person's record and, below it, the transfers (调转记录) the viewer's scope covers."""
        from app.services.transfers import person_transfers

        widgets = self._show(pk)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._related_views,
                                    transfers=person_transfers(parse_id(pk), current_scope()))

    list_template = "persons/list.html"

    @expose("/export/")
    @has_access
    def export(self):
        """The list as filtered, in scope: at once when small, as a job in 我的任务 when large."""
        from app.admin.exporting import export_response
        from app.io.sources import list_filter_args

        return export_response("persons", {"filters": list_filter_args(request.args)})


class PersonImportView(ImportView):
    """专技人员批量导入 (app/io/person_import.py): units and departments enter persons of their scope."""

    route_base = "/persons/import"
    class_permission_name = "Person"
    importer_name = "persons"
    back_endpoint = "PersonView.list"
