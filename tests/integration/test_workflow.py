"""The review mechanism: transition table, counts, audit, rollback, set-based batches, two-party moves."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from app.models import ReviewKind, ReviewStatus
from app.workflow.states import TRANSITIONS, Decision, next_status
from tests.conftest import EDU_ID, HEALTH_ID, PROVINCE_ID


def _account(id_number):
    """The demo admin as the decision function receives it: an Actor."""
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account

    return Actor.of(db.session.query(Account).filter(Account.username == id_number).one(), "127.0.0.1")


def _pending(kind, org_name=None):
    from app.extensions import db
    from app.models import Organisation, ReviewRequest

    query = select(ReviewRequest).where(ReviewRequest.kind == kind, ReviewRequest.status == ReviewStatus.pending)
    if org_name:
        query = query.join(Organisation, Organisation.id == ReviewRequest.org_id).where(Organisation.name == org_name)
    return list(db.session.scalars(query.order_by(ReviewRequest.id)))


@pytest.fixture()
def ctx(app, fresh_world):
    with app.test_request_context():
        yield app


# ------------------------------------------------------------------ transition table
def test_transition_table_allows_exactly_the_designed_moves():
    assert next_status(ReviewStatus.pending, Decision.approve) == ReviewStatus.approved
    assert next_status(ReviewStatus.pending, Decision.reject) == ReviewStatus.rejected
    assert next_status(ReviewStatus.pending, Decision.withdraw) == ReviewStatus.withdrawn
    assert next_status(ReviewStatus.rejected, Decision.resubmit) == ReviewStatus.pending
    for state in ReviewStatus:
        for decision in Decision:
            if (state, decision) not in TRANSITIONS:
                assert next_status(state, decision) is None
    assert next_status(ReviewStatus.approved, Decision.reject) is None
    assert next_status(ReviewStatus.withdrawn, Decision.resubmit) is None


# ------------------------------------------------------------------ decisions
def test_batch_approve_skips_non_pending_and_audits_each(ctx):
    from app.extensions import db
    from app.models import AuditLog, Person
    from app.workflow.service import decide

    actor = _account(HEALTH_ID)
    items = _pending(ReviewKind.person_registration, "湖北省人民医院")
    first = decide(ReviewKind.person_registration, [items[0].id], actor, Decision.approve)
    assert (first.done, first.skipped) == (1, 0)
    outcome = decide(ReviewKind.person_registration, [i.id for i in items], actor, Decision.approve)
    assert (outcome.done, outcome.skipped) == (len(items) - 1, 1)
    assert "跳过 1 条" in outcome.message()
    for item in items:
        db.session.refresh(item)
        assert item.status == ReviewStatus.approved and item.reviewed_by_id == actor.id
        person = db.session.get(Person, item.subject_id)
        assert person.status.value == "active" and person.account.active
        rows = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "review_request",
                                                         AuditLog.object_id == item.id,
                                                         AuditLog.action == "approve")).all()
        assert len(rows) == 1
        assert (rows[0].from_state, rows[0].to_state, rows[0].actor_id) == ("pending", "approved", actor.id)


def test_reject_needs_a_reason_and_keeps_the_login_closed(ctx):
    from app.extensions import db
    from app.models import Person
    from app.services.transaction import ServiceError
    from app.workflow.service import decide

    actor = _account(HEALTH_ID)
    item = _pending(ReviewKind.person_registration, "湖北省人民医院")[0]
    with pytest.raises(ServiceError):
        decide(ReviewKind.person_registration, [item.id], actor, Decision.reject, "   ")
    db.session.refresh(item)
    assert item.status == ReviewStatus.pending
    decide(ReviewKind.person_registration, [item.id], actor, Decision.reject, "单位填写错误")
    db.session.refresh(item)
    assert item.status == ReviewStatus.rejected and item.reject_reason == "单位填写错误"
    person = db.session.get(Person, item.subject_id)
    assert person.status.value == "rejected" and not person.account.active


def test_ids_out_of_scope_fail_the_whole_batch(ctx):
    from app.extensions import db
    from app.workflow.service import NotInScope, decide

    own = _pending(ReviewKind.person_registration, "武汉大学")
    foreign = _pending(ReviewKind.person_registration, "湖北省人民医院")
    with pytest.raises(NotInScope):
        decide(ReviewKind.person_registration, [own[0].id, foreign[0].id], _account(EDU_ID), Decision.approve)
    for item in own + foreign:
        db.session.refresh(item)
        assert item.status == ReviewStatus.pending


def test_ids_of_another_kind_are_not_found(ctx):
    from app.workflow.service import NotInScope, decide

    unit = _pending(ReviewKind.unit_registration)[0]
    with pytest.raises(NotInScope):
        decide(ReviewKind.person_registration, [unit.id], _account(PROVINCE_ID), Decision.approve)


def test_a_department_cannot_decide_its_own_request(ctx):
    from app.services.registrations import request_organisation_change
    from app.workflow.service import NotInScope, decide

    actor = _account(EDU_ID)
    item = request_organisation_change(actor, actor.organisation.id, {"contact_person": "新联系人"})
    with pytest.raises(NotInScope):
        decide(ReviewKind.organisation_change, [item.id], actor, Decision.approve)
    outcome = decide(ReviewKind.organisation_change, [item.id], _account(PROVINCE_ID), Decision.approve)
    assert outcome.done == 1
    assert actor.organisation.contact_person == "新联系人"


def test_a_failing_effect_rolls_back_the_whole_batch(ctx, monkeypatch):
    from app.extensions import db
    from app.models import AuditLog
    from app.workflow.kinds import kind_for
    from app.workflow.service import decide

    items = _pending(ReviewKind.person_registration)
    ids = [i.id for i in items]
    audit_before = db.session.scalar(select(func.count()).select_from(AuditLog))
    kind = kind_for(ReviewKind.person_registration)

    def boom(ids, actor, now):
        raise RuntimeError("effect failed")

    monkeypatch.setitem(kind.effects, Decision.approve, boom)
    with pytest.raises(RuntimeError):
        decide(ReviewKind.person_registration, ids, _account(PROVINCE_ID), Decision.approve)
    db.session.expire_all()
    assert all(db.session.get(type(i), i.id).status == ReviewStatus.pending for i in items)
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audit_before


def test_one_pending_request_per_subject_and_kind_is_enforced_by_the_database(ctx):
    from app.extensions import db
    from app.models import ReviewRequest

    existing = _pending(ReviewKind.person_change)[0]
    db.session.add(ReviewRequest(kind=ReviewKind.person_change, subject_id=existing.subject_id,
                                 org_id=existing.org_id, subject_name="x", status=ReviewStatus.pending))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_second_pending_request_gets_a_clear_message(ctx):
    from app.services.registrations import request_person_change
    from app.services.transaction import ServiceError

    from app.actor import Actor
    from app.extensions import db
    from app.models import Person

    existing = _pending(ReviewKind.person_change)[0]
    person = db.session.get(Person, existing.subject_id)
    with pytest.raises(ServiceError, match="已有一条同类申请"):
        request_person_change(Actor.of(person.account), person.id, {"title_name": "主任医师（新）"})


def test_batch_decision_runs_a_constant_number_of_statements(ctx):
    """Set-based: deciding 2 or 8 registrations costs the same number of statements."""
    from app.extensions import db
    from app.actor import Actor
    from app.services.registrations import register_person
    from app.validators import make_id_number
    import datetime

    from app.models import Organisation

    wuda = db.session.scalar(select(Organisation.id).where(Organisation.name == "武汉大学"))
    for seq in range(10):
        register_person(Actor(None, "127.0.0.1"), id_number=make_id_number("420111", datetime.date(1990, 1, 2), 300 + seq),
                        name=f"批量{seq}", phone="13800000000", password="Batch2026x", employer_id=wuda)
    ids = [i.id for i in _pending(ReviewKind.person_registration, "武汉大学")]
    counts = []
    actor = _account(PROVINCE_ID)
    for batch in (ids[:2], ids[2:10]):
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            from app.workflow.service import decide

            assert decide(ReviewKind.person_registration, batch, actor, Decision.approve).done == len(batch)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------ two-party parent change
def _deep_subtree_under(org_name):
    """Give the moving department a three-level subtree to check every path is rewritten."""
    from app.extensions import db
    from app.models import Organisation, OrganisationStatus, OrganisationType

    root = db.session.query(Organisation).filter_by(name=org_name).one()
    parent = root
    created = []
    for name, kind in (("中医一处", OrganisationType.supervisory), ("中医二处", OrganisationType.supervisory),
                       ("中医门诊部", OrganisationType.employer)):
        org = Organisation(name=name, type=kind, status=OrganisationStatus.approved)
        db.session.add(org)
        db.session.flush()
        org.place_under(parent)
        created.append(org)
        parent = org
    db.session.commit()
    return root, created


def test_parent_change_needs_both_sides_and_moves_the_whole_subtree(ctx):
    from app.extensions import db
    from app.models import AuditLog, Organisation
    from app.workflow.service import decide

    tcm, descendants = _deep_subtree_under("湖北省中医药管理局")
    item = _pending(ReviewKind.parent_change)[0]
    province = db.session.query(Organisation).filter_by(name="湖北省人力资源和社会保障厅").one()
    # the old parent approves first: nothing moves yet
    outcome = decide(ReviewKind.parent_change, [item.id], _account(HEALTH_ID), Decision.approve)
    assert outcome.done == 1
    db.session.expire_all()
    assert item.status == ReviewStatus.pending and item.source_approved_by_id is not None
    assert db.session.get(Organisation, tcm.id).parent.name == "湖北省卫生健康委员会"
    # the same side approving again is skipped
    assert decide(ReviewKind.parent_change, [item.id], _account(HEALTH_ID), Decision.approve).skipped == 1
    # the new parent approves: the department and every descendant move
    decide(ReviewKind.parent_change, [item.id], _account(PROVINCE_ID), Decision.approve)
    db.session.expire_all()
    moved = db.session.get(Organisation, tcm.id)
    assert item.status == ReviewStatus.approved
    assert moved.parent_id == province.id and moved.path == f"{province.path}{tcm.id}/" and moved.depth == 1
    parent = moved
    for org in descendants:
        org = db.session.get(Organisation, org.id)
        assert org.path == f"{parent.path}{org.id}/" and org.depth == parent.depth + 1
        parent = org
    hosp = db.session.query(Organisation).filter_by(name="湖北省中医院").one()
    assert hosp.path == f"{moved.path}{hosp.id}/"
    from app.models import Person

    paths = {p.org_path for p in db.session.query(Person).filter_by(employer_id=hosp.id)}
    assert paths == {hosp.path}
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "review_request",
                                                               AuditLog.object_id == item.id)).all()
    assert actions.count("approve_one_side") == 1 and actions.count("approve") == 1


def test_parent_change_rejected_by_either_side_ends_it(ctx):
    from app.extensions import db
    from app.models import Organisation
    from app.workflow.service import decide

    item = _pending(ReviewKind.parent_change)[0]
    decide(ReviewKind.parent_change, [item.id], _account(HEALTH_ID), Decision.reject, "暂不同意调整")
    db.session.expire_all()
    assert item.status == ReviewStatus.rejected
    assert db.session.query(Organisation).filter_by(name="湖北省中医药管理局").one().parent.name == "湖北省卫生健康委员会"
    assert decide(ReviewKind.parent_change, [item.id], _account(PROVINCE_ID), Decision.approve).skipped == 1


def test_an_unrelated_department_cannot_see_the_parent_change(ctx):
    from app.workflow.service import NotInScope, decide

    item = _pending(ReviewKind.parent_change)[0]
    with pytest.raises(NotInScope):
        decide(ReviewKind.parent_change, [item.id], _account(EDU_ID), Decision.approve)
