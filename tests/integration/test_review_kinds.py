"""Review kinds declared once: completeness, separation of duties and sides for every kind, placement."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from app.models import ReviewKind, ReviewStatus
from app.workflow.states import Decision
from tests.conftest import EDU_ID, HEALTH_ID, PROVINCE_ID, WH_HEALTH_ID, api_token

CJK = re.compile(r"[\u4e00-\u9fff]")


def _actor(id_number):
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account

    return Actor.of(db.session.query(Account).filter(Account.username == id_number).one(), "127.0.0.1")


def _kinds():
    from app.workflow.kinds import load

    return list(load().values())


def _kind_keys():
    from app.workflow.kinds import load

    return list(load())


# ------------------------------------------------------------------ completeness
@pytest.mark.parametrize("key", _kind_keys())
def test_every_declared_kind_has_list_api_todo_permissions_and_chinese_labels(app, client_for, key):
    from app.roles import PROVINCE, SUPERVISORY, template_pairs
    from app.services.dashboard import TASK_REGISTRY
    from app.workflow.kinds import kind_for

    kind = kind_for(key)
    with app.test_request_context():
        assert CJK.search(str(kind.label)), "the kind's label is translated"
        assert CJK.search(str(kind.audit_label or "")), "its audit label is translated"
        for column in kind.list_columns:
            assert CJK.search(str(kind.label_columns.get(column, ""))), f"list column {column} has a label"
    # the list page, reachable from the menu
    client = client_for(PROVINCE_ID)
    page = client.get(f"/review/{key}/list/").get_data(as_text=True)
    assert f'href="/review/{key}/list/' in page
    assert client.get(f"/review/{key}/list/").status_code == 200
    # the to-do entry opens the pending ones
    todo = TASK_REGISTRY[key]
    assert todo.endpoint == kind.list_endpoint and todo.args == {"_flt_0_status": "pending"}
    # role templates of the reviewers: decide on the area and see the menu
    for template in (PROVINCE, SUPERVISORY):
        pairs = template_pairs(template)
        assert ("can_write", kind.area) in pairs and ("menu_access", kind.menu.name) in pairs
    # REST endpoints, documented with the kind in the enum
    headers = {"Authorization": f"Bearer {api_token(app.test_client(), PROVINCE_ID)}"}
    assert app.test_client().get(f"/api/v1/review/{key}/pending", headers=headers).status_code == 200
    spec = app.test_client().get("/api/v1/_openapi", headers=headers).json
    for operation in ("pending", "approve", "reject"):
        path = spec["paths"][f"/api/v1/review/{{kind}}/{operation}"]
        method = next(iter(path.values()))
        assert key in method["parameters"][0]["schema"]["enum"]


def test_the_audit_log_names_every_kind_in_chinese(app_ctx):
    from app.admin.audit import object_label

    for kind in _kinds():
        assert CJK.search(str(object_label(kind.object_type)))


# ------------------------------------------------------------------ separation of duties, every kind
@pytest.fixture()
def ctx(app, fresh_world):
    with app.test_request_context():
        yield app


@pytest.mark.parametrize("key", _kind_keys())
def test_nobody_decides_an_item_they_submitted_whatever_the_kind(ctx, key):
    """Finding 4: the submitter never decides its own item (the province, which reviews everything, included)."""
    from app.errors import NotAllowed
    from app.extensions import db
    from app.workflow.kinds import kind_for
    from app.workflow.service import decide

    kind = kind_for(key)
    model = kind.model
    item_id = db.session.scalar(select(model.id).where(kind.own_rows(), model.status == ReviewStatus.pending)
                                .order_by(model.id).limit(1))
    assert item_id is not None, f"the demo world has a pending {key}"
    province = _actor(PROVINCE_ID)
    db.session.execute(update(model).where(model.id == item_id).values(submitted_by_id=province.id))
    db.session.commit()
    assert item_id not in set(db.session.scalars(
        select(model.id).where(kind.decidable(province.scope, province.id))))
    for decision, reason in ((Decision.approve, None), (Decision.reject, "不同意")):
        with pytest.raises(NotAllowed):
            decide(key, [item_id], province, decision, reason)
    db.session.expire_all()
    assert db.session.get(model, item_id).status == ReviewStatus.pending


def _appoint_person_as_health_admin(client_for, app):
    """A registered, approved person becomes an admin of 湖北省卫生健康委员会 (the third way)."""
    from app.extensions import db
    from app.models import Account, Person, PersonStatus
    from app.services import org_admins

    with app.app_context():
        person = db.session.scalars(select(Person).where(Person.account_id.isnot(None),
                                                         Person.status == PersonStatus.active)
                                    .order_by(Person.id)).first()
        account = db.session.get(Account, person.account_id)
        org_admins.appoint_existing_user(_actor(HEALTH_ID), account.username)
        return person.id, account.username


def test_an_admin_cannot_approve_its_own_title_change_on_the_page_or_the_api(app, fresh_world, client_for):
    """Finding 4: a person appointed admin of a department files a change and cannot approve it."""
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account, Person, ReviewRequest
    from app.services.registrations import request_person_change

    person_id, username = _appoint_person_as_health_admin(client_for, app)
    with app.test_request_context():
        person = db.session.get(Person, person_id)
        account = db.session.scalar(select(Account).where(Account.username == username))
        db.session.execute(update(ReviewRequest).where(ReviewRequest.kind == ReviewKind.person_change,
                                                       ReviewRequest.subject_id == person_id,
                                                       ReviewRequest.status == ReviewStatus.pending)
                           .values(status=ReviewStatus.withdrawn))
        item = request_person_change(Actor.of(account), person.id, {"title_name": "主任医师（自审）"})
        item_id = item.id
    token = api_token(app.test_client(), username, "Demo@2026")
    response = app.test_client().post("/api/v1/review/person_change/approve", json={"ids": [item_id]},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and "本人" in response.json["message"]
    pending = app.test_client().get("/api/v1/review/person_change/pending",
                                    headers={"Authorization": f"Bearer {token}"}).json
    assert item_id not in [r["id"] for r in pending["result"]]
    with app.app_context():
        assert db.session.get(ReviewRequest, item_id).status == ReviewStatus.pending
        assert db.session.get(Person, person_id).title_name != "主任医师（自审）"
    # the super admin of the same department may decide it
    health = client_for(HEALTH_ID)
    health.post("/review/person_change/action_post", data={"action": "approve", "rowid": [item_id]})
    with app.app_context():
        assert db.session.get(ReviewRequest, item_id).status == ReviewStatus.approved


# ------------------------------------------------------------------ two sides
def _parent_change(app, moving, new_parent, submitter):
    from app.extensions import db
    from app.models import Organisation
    from app.services.registrations import request_parent_change

    with app.test_request_context():
        org = db.session.query(Organisation).filter_by(name=moving).one()
        target = db.session.query(Organisation).filter_by(name=new_parent).one()
        return request_parent_change(_actor(submitter), org.id, target.id).id


def test_one_admin_never_fills_both_sides_of_a_parent_change(app, fresh_world):
    """Finding 9: 卫健委 is above both the old and the new parent; its approval fills one side only."""
    from app.extensions import db
    from app.models import Organisation, ReviewRequest
    from app.workflow.service import decide

    item_id = _parent_change(app, "武汉市卫生健康委员会", "湖北省中医药管理局", WH_HEALTH_ID)
    with app.test_request_context():
        health = _actor(HEALTH_ID)
        first = decide("parent_change", [item_id], health, Decision.approve)
        assert (first.done, first.skipped) == (1, 0)
        again = decide("parent_change", [item_id], health, Decision.approve)
        assert (again.done, again.skipped) == (0, 1)
        db.session.expire_all()
        item = db.session.get(ReviewRequest, item_id)
        assert item.status == ReviewStatus.pending
        assert [item.source_approved_by_id, item.target_approved_by_id].count(health.id) == 1
        assert item.status_text == "一方已通过（待另一方审核）"
        moving = db.session.query(Organisation).filter_by(name="武汉市卫生健康委员会").one()
        assert moving.parent.name == "湖北省卫生健康委员会"
        # another admin (the province) fills the other side: the move happens
        decide("parent_change", [item_id], _actor(PROVINCE_ID), Decision.approve)
        db.session.expire_all()
        assert db.session.get(ReviewRequest, item_id).status == ReviewStatus.approved
        moved = db.session.query(Organisation).filter_by(name="武汉市卫生健康委员会").one()
        assert moved.parent.name == "湖北省中医药管理局"


def test_a_side_decided_shows_as_such_and_leaves_the_todo_of_who_decided(app, fresh_world, client_for):
    from app.extensions import db
    from app.models import ReviewRequest

    with app.app_context():
        item_id = db.session.scalar(select(ReviewRequest.id).where(ReviewRequest.kind == ReviewKind.parent_change,
                                                                   ReviewRequest.status == ReviewStatus.pending))
    health = client_for(HEALTH_ID)
    health.post("/review/parent_change/action_post", data={"action": "approve", "rowid": [item_id]})
    page = health.get("/review/parent_change/list/").get_data(as_text=True)
    assert "一方已通过（待另一方审核）" in page
    detail = health.get(f"/review/parent_change/show/{item_id}").get_data(as_text=True)
    assert 'id="approve-one"' not in detail and 'id="not-decidable"' in detail
    home = health.get("/").get_data(as_text=True)
    assert "/review/parent_change/list/" not in home.split('id="todo-panel"')[1].split("</ul>")[0] or \
        re.search(r'parent_change/list/[^"]*">[^<]+</a>\s*<span class="badge">0<', home)
    province = client_for(PROVINCE_ID).get(f"/review/parent_change/show/{item_id}").get_data(as_text=True)
    assert 'id="approve-one"' in province


# ------------------------------------------------------------------ placement invariant
def _assert_placed():
    from app.services.placement import misplaced_persons

    assert misplaced_persons() == []


def test_persons_stay_placed_after_every_kind_of_move(app, fresh_world, client_for):
    """org_path equals the employer's path after a subtree move, registrations and a set-based move."""
    from app.extensions import db
    from app.models import Organisation, Person, PersonStatus
    from app.services.placement import move_persons
    from app.workflow.service import decide

    with app.test_request_context():
        _assert_placed()
        # a subtree move (更换上级部门, both sides)
        from app.models import ReviewRequest

        item = db.session.scalar(select(ReviewRequest.id).where(ReviewRequest.kind == ReviewKind.parent_change,
                                                                ReviewRequest.status == ReviewStatus.pending))
        decide("parent_change", [item], _actor(HEALTH_ID), Decision.approve)
        decide("parent_change", [item], _actor(PROVINCE_ID), Decision.approve)
        _assert_placed()
        # registrations approved
        ids = list(db.session.scalars(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind.person_registration, ReviewRequest.status == ReviewStatus.pending)))
        decide("person_registration", ids, _actor(PROVINCE_ID), Decision.approve)
        _assert_placed()
        # a set-based move of persons to another employer
        target = db.session.query(Organisation).filter_by(name="武汉大学").one()
        movers = list(db.session.scalars(select(Person.id).join(Organisation, Organisation.id == Person.employer_id)
                                         .where(Organisation.name == "湖北省人民医院",
                                                Person.status == PersonStatus.active).limit(3)))
        move_persons(movers, target.id)
        db.session.commit()
        _assert_placed()
