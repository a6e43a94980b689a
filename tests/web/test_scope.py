"""Data scope on every path: pages, actions, REST and related-field choices (docs/security.md, "Data scope")."""
from __future__ import annotations

import pytest

from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, WH_HEALTH_ID


def _person_of(app, org_name):
    from app.extensions import db
    from app.models import Organisation, Person

    with app.app_context():
        person = (db.session.query(Person).join(Organisation, Person.employer_id == Organisation.id)
                  .filter(Organisation.name == org_name).order_by(Person.id).first())
        return person.id, person.id_number


def _org(app, name):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        return db.session.query(Organisation.id).filter(Organisation.name == name).scalar()


def _status(app, org_id):
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        db.session.expire_all()
        return db.session.get(Organisation, org_id).status.value


HEALTH_UNIT = "湖北省人民医院"          # employer attached directly to 湖北省卫生健康委员会
EDU_UNIT = "武汉大学"


# ---------------------------------------------------------------- pages
@pytest.mark.parametrize("url", ["/persons/show/{pk}", "/persons/edit/{pk}"])
def test_edu_admin_gets_404_on_health_person_pages(app, client_for, url):
    pk, _ = _person_of(app, HEALTH_UNIT)
    assert client_for(EDU_ID).get(url.format(pk=pk)).status_code == 404


def test_edu_admin_cannot_delete_health_person(app, client_for):
    from app.extensions import db
    from app.models import Person

    pk, _ = _person_of(app, HEALTH_UNIT)
    assert client_for(EDU_ID).post(f"/persons/delete/{pk}").status_code == 404
    with app.app_context():
        assert db.session.get(Person, pk) is not None


def test_edu_admin_person_list_has_no_health_rows(app, client_for):
    _, id_number = _person_of(app, HEALTH_UNIT)
    _, own_id_number = _person_of(app, EDU_UNIT)
    page = client_for(EDU_ID).get("/persons/list/?psize_PersonView=100").get_data(as_text=True)
    assert own_id_number in page
    assert id_number not in page


def test_search_by_id_number_finds_nothing_out_of_scope(app, client_for):
    _, id_number = _person_of(app, HEALTH_UNIT)
    response = client_for(EDU_ID).get(f"/persons/list/?_flt_0_id_number={id_number}")
    assert response.status_code == 200
    assert "/persons/show/" not in response.get_data(as_text=True)  # no row at all


@pytest.mark.parametrize("url", ["/organisations/show/{pk}", "/organisations/edit/{pk}"])
def test_edu_admin_gets_404_on_health_units(app, client_for, url):
    assert client_for(EDU_ID).get(url.format(pk=_org(app, HEALTH_UNIT))).status_code == 404


def test_child_department_cannot_see_units_attached_to_its_parent(app, client_for):
    client = client_for(WH_HEALTH_ID)
    assert client.get(f"/organisations/show/{_org(app, HEALTH_UNIT)}").status_code == 404
    page = client.get("/organisations/list/").get_data(as_text=True)
    assert "武汉市第一医院" in page
    assert HEALTH_UNIT not in page


def test_province_admin_sees_everything(app, client_for):
    client = client_for(PROVINCE_ID)
    pk, _ = _person_of(app, HEALTH_UNIT)
    assert client.get(f"/persons/show/{pk}").status_code == 200
    assert client.get(f"/organisations/show/{_org(app, EDU_UNIT)}").status_code == 200
    page = client.get("/organisations/list/?psize_OrganisationView=100").get_data(as_text=True)
    assert HEALTH_UNIT in page and EDU_UNIT in page


def test_page_size_is_bounded(app, client_for):
    page = client_for(PROVINCE_ID).get("/persons/list/?psize_PersonView=100000").get_data(as_text=True)
    assert page.count("/persons/show/") <= 100


# ---------------------------------------------------------------- actions
def test_action_on_out_of_scope_row_is_404_and_changes_nothing(app, client_for):
    pk = _org(app, HEALTH_UNIT)
    response = client_for(EDU_ID).post(f"/organisations/action/disable/{pk}")
    assert response.status_code == 404
    assert _status(app, pk) == "approved"


def test_action_post_with_any_out_of_scope_id_is_404_and_changes_nothing(app, client_for):
    foreign, own = _org(app, HEALTH_UNIT), _org(app, EDU_UNIT)
    response = client_for(EDU_ID).post("/organisations/action_post",
                                       data={"action": "disable", "rowid": [own, foreign]})
    assert response.status_code == 404
    assert _status(app, foreign) == "approved" and _status(app, own) == "approved"


def test_action_post_in_scope_works_and_is_audited(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import AuditLog

    own = _org(app, EDU_UNIT)
    response = client_for(EDU_ID).post("/organisations/action_post",
                                       data={"action": "disable", "rowid": [own]})
    assert response.status_code == 302
    assert _status(app, own) == "disabled"
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(object_id=own, action="set_status").one()
        assert '"disabled"' in row.after


def test_unknown_action_is_404(app, client_for):
    assert client_for(EDU_ID).post("/organisations/action_post",
                                   data={"action": "nope", "rowid": ["1"]}).status_code == 404


# ---------------------------------------------------------------- related-field choices
def test_add_person_form_lists_no_organisation_but_searches_in_scope(app, client_for):
    client = client_for(EDU_ID)
    page = client.get("/persons/add").get_data(as_text=True)
    assert 'data-url="/lookup/organisation?type=employer"' in page
    assert EDU_UNIT not in page and HEALTH_UNIT not in page       # nothing listed up front
    found = [r["text"] for r in client.get("/lookup/organisation?type=employer&q=武汉").json["results"]]
    assert EDU_UNIT in found and "武汉市第一医院" not in found
    assert client.get("/lookup/organisation?q=湖北省人民").json["results"] == []


def test_organisation_pickers_match_anywhere_in_the_name(app, client_for):
    client = client_for(HEALTH_ID)
    found = [r["text"] for r in client.get("/lookup/organisation?type=employer&q=人民").json["results"]]
    assert found == ["湖北省人民医院"]                       # not only names starting with 人民
    hospitals = [r["text"] for r in client.get("/lookup/organisation?type=employer&q=医院").json["results"]]
    assert {"湖北省人民医院", "武汉市第一医院", "湖北省中医院"} <= set(hospitals)
    assert "武汉大学" not in hospitals and "湖北大学" not in hospitals   # still the viewer's subtree only
    departments = [r["text"] for r in client.get("/lookup/department?q=教育").json["results"]]
    assert "科技教育处" in departments


def test_person_pickers_keep_the_indexed_prefix_search(app, client_for):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        name = db.session.query(Person.name).filter(Person.name.like("___")).order_by(Person.id).first()[0]
    client = client_for(PROVINCE_ID)
    assert name in [r["text"].split("（")[0] for r in client.get(f"/lookup/person?q={name}").json["results"]]
    middle = name[1:]
    assert all(r["text"].startswith(middle) for r in client.get(f"/lookup/person?q={middle}").json["results"])


def test_lookup_returns_at_most_twenty_and_needs_a_login(app, client_for):
    rows = client_for(PROVINCE_ID).get("/lookup/person").json["results"]
    assert len(rows) == 20
    assert app.test_client().get("/lookup/person").status_code == 401
    assert client_for(PROVINCE_ID).get("/lookup/nothing").status_code == 404


def test_person_lookup_finds_by_id_number_prefix_in_scope_only(app, client_for):
    _, foreign = _person_of(app, HEALTH_UNIT)
    _, own = _person_of(app, EDU_UNIT)
    client = client_for(EDU_ID)
    assert client.get(f"/lookup/person?q={foreign}").json["results"] == []
    assert [r["text"] for r in client.get(f"/lookup/person?q={own}").json["results"]][0].endswith(f"（{own}）")


def test_person_search_form_offers_only_employers_in_scope(app, client_for):
    page = client_for(EDU_ID).get("/persons/list/").get_data(as_text=True)
    assert HEALTH_UNIT not in page


def test_moving_a_person_out_of_scope_by_form_is_refused(app, client_for):
    from app.extensions import db
    from app.models import Person

    pk, _ = _person_of(app, EDU_UNIT)
    client = client_for(EDU_ID)
    # the employer is not a writable field of the edit form (issue 8): a forged one is ignored
    client.post(f"/persons/edit/{pk}", data={"name": "改名", "employer": _org(app, HEALTH_UNIT),
                                             "status": "rejected"})
    with app.app_context():
        person = db.session.get(Person, pk)
        assert person.employer.name == EDU_UNIT
        assert person.status.value == "active"


def test_manage_internal_departments_lists_only_the_own_organisations(app, client_for):
    page = client_for(WH_HEALTH_ID).get("/departments/list/?psize_InternalDepartmentView=100").get_data(as_text=True)
    assert "人事科" in page and "办公室" in page   # 武汉市卫生健康委员会's own
    assert "急诊科" not in page      # 武汉市第一医院's: shown with that unit under 下属机构管理
    assert "护理部" not in page       # another subtree's


def test_account_list_and_reset_password_are_scoped(app, client_for):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        health_admin = db.session.query(Account.id).filter(Account.username == HEALTH_ID).scalar()
    client = client_for(EDU_ID)
    assert HEALTH_ID not in client.get("/users/list/").get_data(as_text=True)
    assert client.get(f"/users/show/{health_admin}").status_code == 404
    assert client.get(f"/resetpassword/form?pk={health_admin}").status_code == 404
    response = client.post(f"/resetpassword/form?pk={health_admin}",
                           data={"password": "Hacked2026", "conf_password": "Hacked2026"})
    assert response.status_code == 404


def test_copy_role_is_not_available_to_departments(app, client_for):
    from app.extensions import db
    from flask_appbuilder.security.sqla.models import Role

    with app.app_context():
        role_id = db.session.query(Role.id).filter(Role.name == "省级管理员").scalar()
        before = db.session.query(Role).count()
    response = client_for(HEALTH_ID).post("/roles/action_post", data={"action": "copyrole", "rowid": [role_id]})
    assert response.status_code in (302, 403, 404)
    with app.app_context():
        assert db.session.query(Role).count() == before


def test_download_endpoint_never_serves_files(app, client_for):
    assert client_for(PROVINCE_ID).get("/persons/download/secret_key").status_code == 404


# ---------------------------------------------------------------- REST
def test_rest_get_put_delete_out_of_scope_are_404(app, api_for):
    from app.extensions import db
    from app.models import Person

    headers = api_for(EDU_ID)
    client = app.test_client()
    pk, _ = _person_of(app, HEALTH_UNIT)
    assert client.get(f"/api/v1/person/{pk}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/person/{pk}", json={"name": "x"}, headers=headers).status_code == 404
    assert client.delete(f"/api/v1/person/{pk}", headers=headers).status_code == 404
    org = _org(app, HEALTH_UNIT)
    assert client.get(f"/api/v1/organisation/{org}", headers=headers).status_code == 404
    with app.app_context():
        assert db.session.get(Person, pk).name != "x"


def test_rest_list_returns_only_rows_in_scope(app, api_for):
    client = app.test_client()
    response = client.get("/api/v1/organisation/?q=(page_size:100)", headers=api_for(EDU_ID))
    names = {row["name"] for row in response.json["result"]}
    assert EDU_UNIT in names and HEALTH_UNIT not in names
    assert response.json["count"] == len(names)


def test_rest_post_into_another_subtree_is_refused(app, api_for):
    from app.extensions import db
    from app.models import Person
    from app.validators import make_id_number
    import datetime

    id_number = make_id_number("420106", datetime.date(1990, 5, 5), 901)
    response = app.test_client().post("/api/v1/person/", headers=api_for(EDU_ID), json={
        "id_number": id_number, "name": "越权", "employer": _org(app, HEALTH_UNIT),
    })
    assert response.status_code in (404, 422)
    with app.app_context():
        assert db.session.query(Person).filter_by(id_number=id_number).count() == 0


def test_rest_put_moving_a_person_out_of_scope_is_refused(app, api_for):
    from app.extensions import db
    from app.models import Person

    pk, _ = _person_of(app, EDU_UNIT)
    response = app.test_client().put(f"/api/v1/person/{pk}", headers=api_for(EDU_ID),
                                     json={"employer": _org(app, HEALTH_UNIT)})
    assert response.status_code in (400, 404, 422)
    with app.app_context():
        assert db.session.get(Person, pk).employer.name == EDU_UNIT


def test_rest_post_in_scope_creates_and_audits(app, fresh_world, api_for):
    from app.extensions import db
    from app.models import AuditLog, Person
    from app.validators import make_id_number
    import datetime

    id_number = make_id_number("420106", datetime.date(1991, 6, 6), 902)
    response = app.test_client().post("/api/v1/person/", headers=api_for(EDU_ID), json={
        "id_number": id_number, "name": "新人", "employer": _org(app, EDU_UNIT),
    })
    assert response.status_code == 201, response.json
    with app.app_context():
        person = db.session.query(Person).filter_by(id_number=id_number).one()
        assert person.gender.value == "female" and person.birth_date == datetime.date(1991, 6, 6)
        assert db.session.query(AuditLog).filter_by(object_type="person", object_id=person.id,
                                                    action="create").count() == 1


def test_rest_info_related_choices_are_scoped(app, api_for):
    response = app.test_client().get("/api/v1/person/_info?q=(keys:!(add_columns))", headers=api_for(EDU_ID))
    employer = next(c for c in response.json["add_columns"] if c["name"] == "employer")
    names = {v["value"] for v in employer["values"]}
    assert EDU_UNIT in names and HEALTH_UNIT not in names


def test_openapi_spec_is_for_the_province_only(app, api_for):
    client = app.test_client()
    assert client.get("/api/v1/_openapi", headers=api_for(PROVINCE_ID)).status_code == 200
    assert client.get("/api/v1/_openapi", headers=api_for(HEALTH_ID)).status_code in (401, 403)


def test_employer_admin_sees_only_its_own_unit(app, client_for):
    page = client_for(HOSPITAL_ID).get("/persons/list/?psize_PersonView=100").get_data(as_text=True)
    _, own = _person_of(app, HEALTH_UNIT)
    _, other = _person_of(app, "武汉市第一医院")
    assert own in page and other not in page


def test_swagger_ui_is_served_offline_for_the_province_only(app, client_for):
    page = client_for(PROVINCE_ID).get("/swagger/v1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html and "//cdn" not in html and "http://" not in html.split("<body")[1]
    assert client_for(HEALTH_ID).get("/swagger/v1").status_code in (302, 403)


def test_openapi_spec_documents_the_review_endpoints(app, api_for):
    spec = app.test_client().get("/api/v1/_openapi", headers=api_for(PROVINCE_ID)).json
    paths = spec["paths"]
    for path in ("/api/v1/review/{kind}/approve", "/api/v1/review/{kind}/reject",
                 "/api/v1/review/{kind}/pending", "/api/v1/organisation/", "/api/v1/person/"):
        assert path in paths
