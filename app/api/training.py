"""Approved training programmes over REST, for learning platforms: read-only, scoped, paged."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterEqual

from app.api.base import ScopedModelRestApi
from app.interface import EagerInterface
from app.models import ReviewStatus, TrainingProgramme
from app.roles import READ_WRITE


class TrainingProgrammeApi(ScopedModelRestApi):
    """GET /api/v1/training_programme/ and /<id>: approved programmes in the caller's scope, by stable code."""

    resource_name = "training_programme"
    class_permission_name = "TrainingProgramme"
    method_permission_name = READ_WRITE
    include_route_methods = {"get", "get_list"}
    openapi_spec_tag = "Training programmes"
    datamodel = EagerInterface(TrainingProgramme)
    base_filters = [["status", FilterEqual, ReviewStatus.approved]]
    list_columns = ["id", "code", "name", "organisation.id", "organisation.name", "year", "subject_kind", "mode",
                    "start_date", "end_date", "hours", "planned_trainees", "venue", "fee_fen", "reviewed_on"]
    show_columns = list_columns + ["description"]
    search_columns = ["code", "name", "year", "subject_kind", "mode", "start_date"]
    order_columns = ["id", "code", "start_date", "name"]
    #: there is no POST or PUT route; FAB still builds its write schemas, so keep them to harmless text
    add_columns = edit_columns = ["name", "description"]
    description_columns = {"fee_fen": "fee per trainee in fen (1/100 yuan)",
                           "code": "stable programme code that credit-hour records refer to"}
