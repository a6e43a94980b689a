"""REST resources: /api/v1/organisation/ and /api/v1/person/, scoped like the pages."""
from __future__ import annotations

from app.api.base import ScopedModelRestApi
from app.interface import EagerInterface
from app.models import Organisation, Person
from app.roles import READ_WRITE
from app.admin.organisations import ORG_LABELS
from app.admin.persons import PERSON_LABELS


class OrganisationApi(ScopedModelRestApi):
    resource_name = "organisation"
    class_permission_name = "Organisation"
    method_permission_name = READ_WRITE
    datamodel = EagerInterface(Organisation)
    list_columns = ["id", "name", "type", "uscc", "parent.id", "parent.name", "path", "region", "status"]
    show_columns = ["id", "name", "type", "uscc", "parent.id", "parent.name", "path", "depth", "region",
                    "contact_person", "phone", "address", "status"]
    #: writable fields, an explicit allow-list (app/write_rules.py): the parent is chosen when an
    #: organisation is added and changes only through the two-party 更换上级部门 decision
    add_columns = ["name", "type", "uscc", "parent", "region", "contact_person", "phone", "address"]
    edit_columns = ["name", "uscc", "region", "contact_person", "phone", "address"]
    search_columns = ["name", "type", "status", "region"]
    order_columns = ["id", "name"]
    label_columns = ORG_LABELS


class PersonApi(ScopedModelRestApi):
    resource_name = "person"
    class_permission_name = "Person"
    method_permission_name = READ_WRITE
    datamodel = EagerInterface(Person)
    list_columns = ["id", "id_number", "name", "gender", "employer.id", "employer.name",
                    "title_series.name", "title_level.name", "status"]
    show_columns = ["id", "id_number", "name", "gender", "birth_date", "phone", "education",
                    "employer.id", "employer.name", "internal_department.name", "title_series.name",
                    "title_level.name",
                    "title_name", "title_date", "status"]
    #: writable fields (app/write_rules.py): the employer is chosen on add; a move is a transfer
    add_columns = ["id_number", "name", "phone", "education", "employer", "internal_department",
                   "title_series", "title_level", "title_name", "title_date"]
    edit_columns = ["name", "phone", "education", "internal_department",
                    "title_series", "title_level", "title_name", "title_date"]
    search_columns = ["name", "id_number", "employer", "status"]
    order_columns = ["id", "name"]
    label_columns = PERSON_LABELS
