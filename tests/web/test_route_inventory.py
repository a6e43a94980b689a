"""Every registered route has a rule in app/security_routes.py, and each rule holds for every demo role:
anonymous visitors and roles without the permission are refused, rows outside the subtree answer 404.

A new route without an entry fails here (so it cannot ship without somebody deciding who may use it).
"""
from __future__ import annotations

import datetime
import re

import pytest
from sqlalchemy import select

from app.security_routes import ROUTES
from tests.conftest import (
    BASE_ID,
    DEMO_PASSWORD,
    EDU_ID,
    HEALTH_ID,
    HOSPITAL_ID,
    PROVINCE_ID,
    WH_HEALTH_ID,
    api_token,
    login,
)

PERSON_ID = None  # set by the personnel fixture
ADMINS = [PROVINCE_ID, HEALTH_ID, WH_HEALTH_ID, EDU_ID, HOSPITAL_ID, BASE_ID]
HEALTH = "湖北省卫生健康委员会"


def _rules(app):
    return [r for r in app.url_map.iter_rules()]


def _declared_permission(app, endpoint):
    """'can_<perm> <area>' as the view declares it (FAB's has_access / protect), or None."""
    blueprint, _, method = endpoint.partition(".")
    view = next((v for v in app.appbuilder.baseviews if v.endpoint == blueprint), None)
    if view is None or not method:
        return None
    function = getattr(view, method, None)
    name = getattr(function, "_permission_name", None)
    if name is None:
        return None
    name = (view.method_permission_name or {}).get(method, name)
    return f"can_{name} {view.class_permission_name}"


# ---------------------------------------------------------------------------------- the list itself
def test_every_registered_route_has_a_rule(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    missing = sorted(endpoints - set(ROUTES))
    assert missing == [], f"routes without a rule in app/security_routes.py: {missing}"
    stale = sorted(set(ROUTES) - endpoints)
    assert stale == [], f"rules for routes that no longer exist: {stale}"


def test_each_rules_permission_is_the_one_the_view_checks(app):
    for endpoint, rule in ROUTES.items():
        declared = _declared_permission(app, endpoint)
        if declared is not None:
            assert rule.permission == declared, endpoint
        if rule.access in ("permission", "api"):
            assert rule.permission, endpoint
        assert rule.access in ("public", "signed-in", "permission", "api", "api-public"), endpoint
        assert rule.scope in ("none", "scoped", "row", "own", "all", "approved", "submitter"), endpoint


def test_every_model_view_and_api_inherits_the_scoped_base(app):
    """Scope comes from inheriting the scoped base views, never from remembering it per view."""
    from flask_appbuilder import ModelRestApi, ModelView

    from app.admin.base import ScopedModelView
    from app.admin.roles import RoleView
    from app.api.base import ScopedModelRestApi

    for view in app.appbuilder.baseviews:
        if isinstance(view, ModelView) and not isinstance(view, RoleView):  # RoleView: province only
            assert isinstance(view, ScopedModelView), type(view).__name__
        if isinstance(view, ModelRestApi):
            assert isinstance(view, ScopedModelRestApi), type(view).__name__


# ---------------------------------------------------------------------------------- sample URLs
def _sample_url(app, rule, pk="1", account_id="1"):
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        if name == "name":
            blueprint = rule.endpoint.split(".")[0]
            view = next((v for v in app.appbuilder.baseviews if v.endpoint == blueprint), None)
            actions = list(getattr(view, "actions", {}) or {}) if view is not None else []
            values[name] = actions[0] if actions else "organisation"
        elif name == "kind":
            values[name] = "person_registration"
        elif name == "version":
            values[name] = "v1"
        elif name == "locale":
            values[name] = "zh"
        elif name in ("filename",):
            values[name] = "js/org_picker.js" if "static" in rule.endpoint else "x"
        elif name == "account_id":
            values[name] = account_id
        elif converter in ("IntegerConverter",):
            values[name] = int(pk)
        else:
            values[name] = pk
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _method(rule):
    methods = rule.methods - {"HEAD", "OPTIONS"}
    if rule.endpoint.endswith(".delete") and "POST" in methods:
        return "POST"  # FAB refuses a GET delete before anything else (CSRF): the POST is the real one
    return "GET" if "GET" in methods else sorted(methods)[0]


def _call(client, rule, url, headers=None):
    method = _method(rule)
    if method == "GET":
        return client.get(url, headers=headers)
    kwargs = {"headers": headers}
    if rule.endpoint.split(".")[0].endswith("Api") or "Api." in rule.endpoint:
        kwargs["json"] = {}
    return client.open(url, method=method, **kwargs)


def _refused(response, api=False):
    if api:
        return response.status_code in (401, 403)
    if response.status_code == 302:
        return "/login" in response.headers["Location"]
    return response.status_code in (401, 403)


# ---------------------------------------------------------------------------------- anonymous
def test_anonymous_visitors_reach_only_public_routes(app):
    client = app.test_client()
    for rule in _rules(app):
        spec = ROUTES[rule.endpoint]
        url = _sample_url(app, rule)
        response = _call(client, rule, url)
        assert response.status_code < 500, (rule.endpoint, response.status_code)
        if spec.access == "public":
            assert not _refused(response), rule.endpoint
        elif spec.access in ("api", "signed-in", "permission"):
            assert _refused(response, api=spec.access == "api"), (rule.endpoint, response.status_code)
        elif rule.endpoint == "AppSecurityApi.refresh":
            assert response.status_code == 401
        response.close()


# ---------------------------------------------------------------------------------- wrong role
@pytest.fixture(scope="module")
def personnel(app):
    """An approved person with an active login (专技人员), made for this module and removed after."""
    from app.extensions import db
    from app.models import Organisation, Person, PersonStatus, UserType
    from app.roles import PERSONNEL
    from app.services.accounts import new_account
    from app.services.persons import fill_from_id_number
    from app.services.transaction import transaction
    from app.validators import make_id_number
    from flask_appbuilder.security.sqla.models import Role

    id_number = make_id_number("420103", datetime.date(1993, 3, 3), 515)
    with app.app_context():
        employer = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省人民医院"))
        role = db.session.scalar(select(Role).where(Role.name == PERSONNEL))
        with transaction():
            account = new_account(id_number=id_number, real_name="路由测试", password=DEMO_PASSWORD,
                                  organisation=employer, user_type=UserType.personnel, roles=[role])
            person = Person(id_number=id_number, name="路由测试", employer=employer, status=PersonStatus.active,
                            account=account)
            fill_from_id_number(person)
            db.session.add_all([account, person])
    yield id_number
    from app.demo import seed_demo

    with app.app_context():
        seed_demo(reset=True)


def _permissions(app, id_number):
    from flask import g

    from app.extensions import db
    from app.models import Account

    with app.test_request_context():
        account = db.session.scalar(select(Account).where(Account.username == id_number))
        g.pop("_permission_cache", None)
        return {f"{p} {v}" for p, v in app.appbuilder.sm._permission_set(account)}


def _signed_in(app, id_number):
    client = app.test_client()
    user_type = "personnel" if id_number.startswith("420103199303") else None
    response = login(client, id_number, DEMO_PASSWORD if id_number != PROVINCE_ID else None, user_type)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def test_roles_without_the_permission_are_refused_everywhere(app, personnel):
    accounts = ADMINS + [personnel]
    checked = 0
    for id_number in accounts:
        held = _permissions(app, id_number)
        client = _signed_in(app, id_number)
        token = None
        for rule in _rules(app):
            spec = ROUTES[rule.endpoint]
            if spec.access not in ("permission", "api") or spec.permission in held:
                continue
            headers = None
            if spec.access == "api":
                token = token or api_token(app.test_client(), id_number)
                headers = {"Authorization": f"Bearer {token}"}
            response = _call(client, rule, _sample_url(app, rule), headers=headers)
            assert _refused(response, api=spec.access == "api"), (id_number, rule.endpoint, response.status_code)
            checked += 1
            response.close()
    assert checked > 100


# ---------------------------------------------------------------------------------- out of scope
def _rows_under(app, unit: str, department: str, admin_id: str):
    """A row of each model belonging to `unit` (an employer under `department`)."""
    from app.extensions import db
    from app.models import Account, Attachment, InternalDepartment, Organisation, Person

    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == unit))
        return {
            "Attachment": db.session.scalar(select(Attachment.id).where(Attachment.org_path.like(org.path + "%"))
                                            .limit(1)),
            "Organisation": org.id,
            "Person": db.session.scalar(select(Person.id).where(Person.employer_id == org.id).limit(1)),
            "InternalDepartment": db.session.scalar(
                select(InternalDepartment.id).where(InternalDepartment.organisation_id == org.id).limit(1)),
            "Account": db.session.scalar(select(Account.id).where(Account.username == admin_id)),
            "department": department,
        }


def _health_rows(app):
    """A row of each model inside 湖北省卫生健康委员会's subtree (outside 湖北省教育厅's)."""
    return _rows_under(app, "湖北省人民医院", HEALTH, HOSPITAL_ID)


def _request_under(app, department: str, kind, outside: str | None = None):
    """A review request of a kind filed in `department`'s subtree (and not in `outside`'s)."""
    from app.extensions import db
    from app.models import Organisation, ReviewRequest

    with app.app_context():
        root = db.session.scalar(select(Organisation).where(Organisation.name == department))
        query = (select(ReviewRequest.id).join(Organisation, Organisation.id == ReviewRequest.org_id)
                 .where(Organisation.path.like(root.path + "%"), ReviewRequest.kind == kind))
        if outside:
            other = db.session.scalar(select(Organisation).where(Organisation.name == outside))
            query = query.where(~Organisation.path.like(other.path + "%"))
        return db.session.scalar(query.limit(1))


#: viewer -> (an employer unit outside the viewer's subtree, its department, that unit's admin)
OUTSIDE = {
    EDU_ID: ("湖北省人民医院", HEALTH, HOSPITAL_ID),
    WH_HEALTH_ID: ("湖北省人民医院", HEALTH, HOSPITAL_ID),      # attached to the parent, not below
    HEALTH_ID: ("武汉大学", "湖北省教育厅", None),
    HOSPITAL_ID: ("武汉大学", "湖北省教育厅", None),
    BASE_ID: ("湖北省人民医院", HEALTH, HOSPITAL_ID),             # a sibling unit of the same department
}


@pytest.mark.parametrize("viewer", list(OUTSIDE))
def test_rows_outside_the_subtree_answer_404(app, viewer):
    """Each admin (holding the permission) asks for rows of another subtree: 404 on every row route."""
    unit, department, unit_admin = OUTSIDE[viewer]
    rows = _rows_under(app, unit, department, unit_admin or EDU_ID)
    held = _permissions(app, viewer)
    client = _signed_in(app, viewer)
    token = {"Authorization": f"Bearer {api_token(app.test_client(), viewer)}"}
    viewer_department = {WH_HEALTH_ID: "武汉市卫生健康委员会"}.get(viewer)
    checked = 0
    for rule in _rules(app):
        spec = ROUTES[rule.endpoint]
        if spec.scope != "row" or spec.model not in rows or spec.permission not in held:
            continue
        pk = rows[spec.model]
        blueprint = rule.endpoint.split(".")[0]
        view = next((v for v in app.appbuilder.baseviews if v.endpoint == blueprint), None)
        if spec.model == "ReviewRequest":
            kind = getattr(view, "kind", None)
            if kind is None:
                from app.models import ReviewKind

                kind = ReviewKind.person_registration
            pk = _request_under(app, department, kind, outside=viewer_department)
            if pk is None or viewer in (HOSPITAL_ID, BASE_ID) and department == HEALTH:
                continue
        url = _sample_url(app, rule, pk=str(pk), account_id=str(rows["Account"]))
        headers = token if spec.access == "api" else None
        if rule.endpoint.endswith(".action_post"):
            blueprint = rule.endpoint.split(".")[0]
            view = next(v for v in app.appbuilder.baseviews if v.endpoint == blueprint)
            response = client.post(url, data={"action": next(iter(view.actions)), "rowid": [pk]})
        elif rule.endpoint.endswith(".reject_form"):
            response = client.get(f"{url}?ids={pk}")
        elif rule.endpoint.startswith("ReviewApi."):
            response = client.post(url, json={"ids": [pk], "reason": "越权测试"}, headers=headers)
        else:
            response = _call(client, rule, url, headers=headers)
        assert response.status_code == 404, (rule.endpoint, url, response.status_code)
        checked += 1
    assert checked >= (20 if viewer in (EDU_ID, HEALTH_ID, WH_HEALTH_ID) else 5)
    # the rows really exist: the province sees them
    province = _signed_in(app, PROVINCE_ID)
    assert province.get(f"/persons/show/{rows['Person']}").status_code == 200
    assert re.search(unit, province.get(f"/organisations/show/{rows['Organisation']}").get_data(as_text=True))


def test_own_organisation_routes_never_reach_another_organisations_rows(app):
    """Routes of the own organisation (管理单位管理员, 基本信息) answer 404 for another organisation's
    admins and requests."""
    rows = _health_rows(app)
    client = _signed_in(app, EDU_ID)
    from app.models import ReviewKind

    rows["ReviewRequest"] = _request_under(app, HEALTH, ReviewKind.person_registration)
    for url in (f"/orgadmins/done/{rows['Account']}", ):
        assert client.get(url).status_code == 404, url
    for url in (f"/orgadmins/super/{rows['Account']}", f"/orgadmins/remove/{rows['Account']}"):
        response = client.post(url, follow_redirects=True)
        assert response.status_code == 404, url
    assert client.post(f"/ownorganisation/withdraw/{rows['ReviewRequest']}").status_code == 404
