"""Operations: /healthz, /readyz, /metrics, request ids, JSON request logs, and outages answering 503."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from tests.conftest import HEALTH_ID, PROVINCE_ID, api_token


# ---------------------------------------------------------------------------------- /healthz, /readyz
def test_healthz_answers_ok_without_the_database(app, client_for):
    client = client_for(HEALTH_ID)                              # a session cookie: still no user load
    with _database_down(app):
        response = client.get("/healthz")
        assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
        assert response.mimetype == "text/plain"
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503 and ready.json["database"] == "error"


def test_readyz_reports_each_dependency(app, monkeypatch):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "redis": "off", "storage": "ok"}
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:9/0")      # nothing listens there
    monkeypatch.setitem(app.extensions, "jijiao_redis", {"client": None, "down_until": 0.0})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["redis"] == "error" and response.json["database"] == "ok"


def test_ops_routes_refuse_other_methods_and_ignore_arguments(app):
    client = app.test_client()
    for url in ("/healthz", "/readyz", "/metrics"):
        assert client.post(url).status_code == 405
        assert client.get(url + "?x=%00&page_=abc").status_code in (200, 400)
    assert client.get("/healthz?x=1").status_code == 200


# ---------------------------------------------------------------------------------- /metrics
def test_metrics_in_prometheus_format_for_the_allowed_network(app):
    client = app.test_client()
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'jijiao_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "jijiao_http_request_duration_seconds_bucket" in text
    assert 'jijiao_jobs{status="succeeded"}' in text


def test_metrics_elsewhere_only_for_the_province_admin(app, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.0.0.0/8, 2001:db8::/32")
    outside = {"REMOTE_ADDR": "192.0.2.7"}
    assert app.test_client().get("/metrics", environ_base=outside).status_code == 404      # anonymous
    assert client_for(HEALTH_ID).get("/metrics", environ_base=outside).status_code == 404  # a department admin
    assert client_for(PROVINCE_ID).get("/metrics", environ_base=outside).status_code == 200
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    token = api_token(app.test_client(), PROVINCE_ID)                                  # a JWT is not a session
    assert app.test_client().get("/metrics", environ_base=outside,
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 404


@pytest.mark.parametrize("address,setting,allowed", [
    ("127.0.0.1", "127.0.0.1/32,::1/128", True),
    ("::1", "127.0.0.1/32,::1/128", True),
    ("::ffff:127.0.0.1", "127.0.0.1/32", True),
    ("10.9.8.7", "10.0.0.0/8", True),
    ("10.9.8.7", "10.0.0.1", False),
    ("10.9.8.7", "not-a-network, 10.9.8.7", True),
    ("", "0.0.0.0/0", False),
    ("garbage", "0.0.0.0/0", False),
    (None, "0.0.0.0/0", False),
    ("fe80::1%eth0", "fe80::/10", True),
])
def test_metrics_networks(address, setting, allowed):
    from app.ops import address_allowed

    assert address_allowed(address, setting) is allowed


# ---------------------------------------------------------------------------------- request ids and logs
def test_request_ids_are_taken_or_made_and_returned(app):
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"] == "lb-1234.abc"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    for bad in ("has space", "x" * 65, "<script>", "a\tb", ""):
        returned = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert returned != bad and len(returned) == 32
    assert client.get("/no/such/page", headers={"X-Request-ID": "r-404"}).headers["X-Request-ID"] == "r-404"


def test_one_json_line_per_request_with_who_and_how_long(app, client_for, caplog):
    from app.logs import JsonFormatter
    from app.models import Account
    from app.extensions import db

    client = client_for(HEALTH_ID)
    with caplog.at_level(logging.INFO, logger="app.request"):
        client.get("/persons/list/", headers={"X-Request-ID": "req-log-1"})
    records = [r for r in caplog.records if r.name == "app.request" and r.request_id == "req-log-1"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    with app.app_context():
        account_id = db.session.scalar(select(Account.id).where(Account.username == HEALTH_ID))
    assert line["request_id"] == "req-log-1" and line["method"] == "GET" and line["path"] == "/persons/list/"
    assert line["status"] == 200 and line["user_id"] == account_id and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "app.request" and "ts" in line


def test_a_decision_writes_its_request_id_into_the_audit_log(app, fresh_world):
    from app.extensions import db
    from app.models import AuditLog, ReviewKind, ReviewRequest, ReviewStatus

    with app.app_context():
        ids = list(db.session.scalars(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind.unit_registration, ReviewRequest.status == ReviewStatus.pending)))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, HEALTH_ID)}", "X-Request-ID": "decide-42"}
    response = client.post("/api/v1/review/unit_registration/approve", json={"ids": ids}, headers=headers)
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "decide-42"
    with app.app_context():
        rows = db.session.scalars(select(AuditLog.request_id).where(AuditLog.object_id.in_(ids),
                                                                    AuditLog.action == "approve")).all()
        assert rows and set(rows) == {"decide-42"}


def test_a_job_logs_under_the_request_that_started_it(app, fresh_world, client_for, caplog, monkeypatch):
    from app.jobs.backends import wait_idle

    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 1)        # the export runs as a job
    with caplog.at_level(logging.INFO, logger="app.jobs"):
        response = client_for(PROVINCE_ID).get("/persons/export/", headers={"X-Request-ID": "export-job-7"})
        assert response.status_code == 302
        wait_idle(app)
    lines = [r for r in caplog.records if r.name == "app.jobs"]
    assert any(r.getMessage().endswith("succeeded") for r in lines)
    assert lines and {r.request_id for r in lines} == {"export-job-7"}


def test_celery_messages_carry_the_request_id(app, monkeypatch):
    from app.jobs import backends
    from app.jobs.backends import request_id_of

    sent = []

    class Client:
        def send_task(self, name, args=None, queue=None, headers=None):
            sent.append((name, args, headers))

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setattr(backends, "_celery_client", lambda _app: Client())
    with app.test_request_context(headers={"X-Request-ID": "celery-1"}):
        app.preprocess_request()
        backends.dispatch(123)
    assert sent == [(backends.TASK_NAME, [123], {"x_request_id": "celery-1"})]
    assert request_id_of(type("R", (), {"x_request_id": "celery-1"})()) == "celery-1"
    assert request_id_of(type("R", (), {"headers": {"x_request_id": "h-2"}})()) == "h-2"
    assert request_id_of(type("R", (), {"headers": None})()) is None


# ---------------------------------------------------------------------------------- outages: 503, never 500
class _database_down:
    """Every statement fails as if the server had gone away (connection refused / closed)."""

    def __init__(self, app):
        self.app = app

    def _fail(self, *args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    def __enter__(self):
        from app.extensions import db

        with self.app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._fail)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._fail)


def test_a_database_outage_answers_503_in_chinese_on_pages_and_the_api(app, client_for):
    client = client_for(HEALTH_ID)
    headers = {"Authorization": f"Bearer {api_token(app.test_client(), HEALTH_ID)}"}
    with _database_down(app):
        for url in ("/", "/persons/list/", "/review/person_registration/list/"):
            response = client.get(url)
            assert response.status_code == 503, url
            page = response.get_data(as_text=True)
            assert "服务暂时不可用" in page and "请稍后重试" in page and response.headers["Retry-After"]
        login = app.test_client().post("/login/", data={"user_type": "supervisory", "username": HEALTH_ID,
                                                       "password": "Demo@2026"})
        assert login.status_code == 503
        api = app.test_client().get("/api/v1/organisation/", headers=headers)
        assert api.status_code == 503 and "服务暂时不可用" in api.json["message"]
        decision = app.test_client().post("/api/v1/review/unit_registration/approve", json={"ids": [1]},
                                          headers=headers)
        assert decision.status_code == 503
    assert client.get("/persons/list/").status_code == 200        # back: the next request works


@pytest.mark.parametrize("error", ["redis", "s3"])
def test_redis_and_object_store_errors_answer_503(app, client_for, monkeypatch, error):
    import botocore.exceptions
    import redis

    from app.services import dashboard

    def fail(*args, **kwargs):
        if error == "redis":
            raise redis.exceptions.ConnectionError("Connection refused")
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://s3.invalid")

    monkeypatch.setattr(dashboard, "scope_counts", fail)
    response = client_for(HEALTH_ID).get("/")
    assert response.status_code == 503 and "服务暂时不可用" in response.get_data(as_text=True)
