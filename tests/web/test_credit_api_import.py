"""POST /api/v1/credit/import: per-row answers, Idempotency-Key replays, scope, bad input, wrong role."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import BASE_ID, HEALTH_ID, HOSPITAL_ID
from tests.support.credit import PAPER, ensure_credit_settings, staff_numbers

URL = "/api/v1/credit/import"


@pytest.fixture()
def codes(app, fresh_world):
    with app.app_context():
        data = ensure_credit_settings()
        data.update(staff=staff_numbers("湖北省人民医院", 4), whu=staff_numbers("武汉大学", 2))
    return data


def record_count(app) -> int:
    from app.extensions import db
    from app.models import CreditRecord

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CreditRecord))


def post(client, headers, body, key=None):
    extra = dict(headers)
    if key is not None:
        extra["Idempotency-Key"] = key
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=raw, headers=extra, content_type="application/json")


def test_a_base_imports_a_batch_answered_per_row_and_a_retry_with_the_key_inserts_nothing(app, codes, api_for):
    client, headers = app.test_client(), api_for(BASE_ID)
    records = [{"id_number": n, "programme_code": codes["base_programme"], "completed_on": "2026-03-12"}
               for n in codes["staff"][:2] + codes["whu"][:1]]
    records.append({"id_number": "420106199001010160", "programme_code": codes["base_programme"],
                    "completed_on": "2026-03-12"})
    before = record_count(app)
    first = post(client, headers, {"records": records}, key="batch-0001")
    assert first.status_code == 200, first.json
    body = first.json
    assert (body["total"], body["imported"], body["rejected"]) == (4, 3, 1)
    assert [r["ok"] for r in body["results"]] == [True, True, True, False]
    assert all(isinstance(r["record_id"], int) for r in body["results"][:3])
    assert "校验位" in body["results"][3]["message"]
    assert record_count(app) == before + 3
    again = post(client, headers, {"records": records}, key="batch-0001")
    assert again.status_code == 200 and again.json == body and again.headers.get("Idempotent-Replayed") == "true"
    assert record_count(app) == before + 3
    other = post(client, headers, {"records": records[:1]}, key="batch-0001")
    assert other.status_code == 422 and "Idempotency-Key" in other.json["message"]
    # without the key the same records are duplicates now, answered per row
    dup = post(client, headers, {"records": records[:1]})
    assert dup.status_code == 200 and dup.json["results"][0]["ok"] is False
    assert "已有待审核或已通过" in dup.json["results"][0]["message"]
    with app.app_context():
        from app.extensions import db
        from app.models import CreditRecord

        record = db.session.get(CreditRecord, body["results"][0]["record_id"])
        assert (record.channel.value, record.declarer_type.value, record.status.value) == ("api", "training_base",
                                                                                           "pending")


def test_atomic_batches_insert_nothing_when_a_row_is_bad(app, codes, api_for):
    client, headers = app.test_client(), api_for(BASE_ID)
    records = [{"id_number": codes["staff"][0], "programme_code": codes["base_programme"], "completed_on": "2026-03-12"},
               {"id_number": codes["staff"][1], "programme_code": codes["base_programme"], "completed_on": "2026-07-01"}]
    before = record_count(app)
    response = post(client, headers, {"records": records, "atomic": True})
    assert response.status_code == 200 and response.json["imported"] == 0
    assert "不在培训项目时间内" in response.json["results"][1]["message"]
    assert record_count(app) == before


def test_a_unit_imports_only_its_own_staff_and_a_base_only_its_own_programmes(app, codes, api_for):
    client = app.test_client()
    unit = post(client, api_for(HOSPITAL_ID), {"records": [
        {"id_number": codes["staff"][0], "standard_code": PAPER, "quantity": 1, "activity": "论文A",
         "completed_on": "2026-04-01"},
        {"id_number": codes["whu"][0], "standard_code": PAPER, "quantity": 1, "activity": "论文A",
         "completed_on": "2026-04-01"}]})
    assert unit.status_code == 200 and [r["ok"] for r in unit.json["results"]] == [True, False]
    assert "不在本单位" in unit.json["results"][1]["message"]
    base = post(client, api_for(BASE_ID), {"records": [
        {"id_number": codes["staff"][1], "programme_code": codes["unit_programme"], "completed_on": "2026-02-10"}]})
    assert base.status_code == 200 and "不是本机构已通过的培训项目" in base.json["results"][0]["message"]


def test_departments_and_anonymous_callers_are_refused(app, codes, api_for):
    client = app.test_client()
    body = {"records": [{"id_number": codes["staff"][0], "programme_code": codes["base_programme"],
                         "completed_on": "2026-03-12"}]}
    assert post(client, api_for(HEALTH_ID), body).status_code == 403
    assert post(client, {}, body).status_code == 401


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'"text"', {"records": "x"}, {"records": []}, {"records": [1, "a", None]},
    {"records": [{"id_number": 420106199001010167}]}, {"records": [{"id_number": "1" * 500, "hours": "∞",
                                                                     "completed_on": "2026-02-30", "evil": 1}]},
    {"records": [{"id_number": None, "quantity": True, "programme_code": ["a"], "completed_on": {"a": 1}}]},
    {"records": [{}], "atomic": "yes"},
])
def test_bad_input_is_answered_400_or_422_or_per_row_never_500(app, codes, api_for, body):
    before = record_count(app)
    response = post(app.test_client(), api_for(BASE_ID), body)
    assert response.status_code in (200, 400, 422), (response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code == 200:
        assert response.json["imported"] == 0 and all(not r["ok"] for r in response.json["results"])
    assert record_count(app) == before


def test_too_many_records_and_a_bad_key_are_refused(app, codes, api_for):
    client, headers = app.test_client(), api_for(BASE_ID)
    row = {"id_number": codes["staff"][0], "programme_code": codes["base_programme"], "completed_on": "2026-03-12"}
    assert post(client, headers, {"records": [row] * 10_001}).status_code == 422
    assert post(client, headers, {"records": [row]}, key="含中文的键").status_code in (400, 422)


def test_the_openapi_spec_documents_the_import(app, api_for):
    spec = app.test_client().get("/api/v1/_openapi", headers=api_for("420106198001010015")).json
    operation = spec["paths"]["/api/v1/credit/import"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "records" in operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
