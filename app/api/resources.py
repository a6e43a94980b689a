"""REST resources: /api/v1/organisation/ and /api/v1/person/, scoped like the pages."""
from __future__ import annotations

from app.api.base import ScopedModelRestApi
from app.interface import EagerInterface
from app.models import Organisation, Person
from app.roles import READ_WRITE
from app.services import organisations as org_service
from app.services import persons as person_service


class OrganisationApi(ScopedModelRestApi):
    resource_name = "organisation"
    class_permission_name = "Organisation"
    method_permission_name = READ_WRITE
    datamodel = EagerInterface(Organisation)
    list_columns = ["id", "name", "type", "uscc", "parent.id", "parent.name", "path", "region", "status"]
    show_columns = ["id", "name", "type", "uscc", "parent.id", "parent.name", "path", "depth", "region",
                    "contact_person", "phone", "address", "status"]
    add_columns = ["name", "type", "uscc", "parent", "region", "contact_person", "phone", "address"]
    edit_columns = ["name", "uscc", "parent", "region", "contact_person", "phone", "address"]
    search_columns = ["name", "type", "status", "region"]
    order_columns = ["id", "name"]

    def pre_add(self, item):
        super().pre_add(item)
        org_service.prepare_new_organisation(item)


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
    add_columns = ["id_number", "name", "phone", "education", "employer", "internal_department",
                   "title_series", "title_level", "title_name", "title_date"]
    edit_columns = ["name", "phone", "education", "employer", "internal_department",
                    "title_series", "title_level", "title_name", "title_date"]
    search_columns = ["name", "id_number", "employer", "status"]
    order_columns = ["id", "name"]

    def pre_add(self, item):
        super().pre_add(item)
        person_service.prepare_new_person(item)

    def pre_update(self, item):
        super().pre_update(item)
        person_service.validate_person(item)
