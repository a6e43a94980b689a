"""The transaction helper nests; the error model answers pages and the API alike, in Chinese."""
from __future__ import annotations

import pytest

from tests.conftest import EDU_ID, HEALTH_ID


def _count_audit(action):
    from app.extensions import db
    from app.models import AuditLog

    return db.session.query(AuditLog).filter(AuditLog.action == action).count()


def test_nested_transactions_commit_only_at_the_outermost(app_ctx):
    from app.actor import Actor
    from app.extensions import db
    from app.services import audit
    from app.services.transaction import in_transaction, transaction

    with transaction():
        audit.record("tx_probe_outer", None, actor=Actor.system(), object_type="system")
        with transaction():
            audit.record("tx_probe_inner", None, actor=Actor.system(), object_type="system")
        assert in_transaction()
        db.session.rollback()  # what an outer failure would do: the inner block committed nothing
    assert not in_transaction()
    assert _count_audit("tx_probe_inner") == 0


def test_a_failure_inside_a_nested_block_rolls_back_the_whole(app_ctx):
    from app.actor import Actor
    from app.services import audit
    from app.services.transaction import transaction

    with pytest.raises(RuntimeError):
        with transaction():
            audit.record("tx_probe_a", None, actor=Actor.system(), object_type="system")
            with transaction():
                audit.record("tx_probe_b", None, actor=Actor.system(), object_type="system")
                raise RuntimeError("boom")
    assert _count_audit("tx_probe_a") == 0 and _count_audit("tx_probe_b") == 0


def test_view_add_audits_in_the_same_transaction_as_the_row(app, fresh_world, client_for, monkeypatch):
    """If writing the audit row fails, the new row is not left behind."""
    from app.extensions import db
    from app.models import InternalDepartment
    from app.services import audit

    client = client_for(HEALTH_ID)
    with app.app_context():
        from tests.conftest import org_id

        health = org_id("湖北省卫生健康委员会")
    real = audit.record

    def failing(action, *args, **kwargs):
        if action == "create":
            raise RuntimeError("audit failure")
        return real(action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    response = client.post("/departments/add", data={"organisation": health, "name": "审计失败科"})
    monkeypatch.undo()
    assert response.status_code == 500
    with app.app_context():
        assert db.session.query(InternalDepartment).filter_by(name="审计失败科").count() == 0


def test_unknown_page_answers_a_chinese_404(client_for):
    response = client_for(HEALTH_ID).get("/no/such/page")
    assert response.status_code == 404
    assert "不存在" in response.get_data(as_text=True)


def test_api_errors_are_json_with_a_chinese_message(app, api_for):
    client = app.test_client()
    response = client.get("/api/v1/organisation/999999999", headers=api_for(EDU_ID))
    assert response.status_code == 404
    response = client.get("/api/v1/no-such-resource/", headers=api_for(EDU_ID))
    assert response.status_code == 404
    assert "不存在" in response.json["message"]


@pytest.mark.parametrize("pk", ["abc", "9223372036854775808", "-1", "0"])
def test_malformed_ids_are_not_found_not_errors(client_for, pk):
    client = client_for(HEALTH_ID)
    for url in (f"/persons/show/{pk}", f"/organisations/edit/{pk}", f"/departments/show/{pk}"):
        assert client.get(url).status_code == 404, url
