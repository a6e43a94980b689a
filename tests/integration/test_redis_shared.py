"""Two app "hosts" sharing one Redis (started here): cache invalidation and rate limits are shared, and
when Redis dies login, lists and decisions keep working while /readyz reports it."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from sqlalchemy import select, update

from tests.conftest import HEALTH_ID, api_token, login, make_config

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs the redis-server binary (Debian package redis-server)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def redis_server():
    port = _free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                                "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def _host(database_url, storage_root, redis_url, **overrides):
    """One app host as production configures it: shared Redis, 60 s dashboard figures, rate limits on."""
    from app import create_app

    config = make_config(database_url, STORAGE_ROOT=storage_root, REDIS_URL=redis_url, DASHBOARD_COUNTS_TTL=60,
                         RATELIMIT_ENABLED=True, AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per minute",
                         RATELIMIT_STORAGE_URI=redis_url, **overrides)
    return create_app(config)


def _health_counts(host):
    from app.extensions import db
    from app.models import Account
    from app.scope import scope_for
    from app.services.dashboard import scope_counts

    with host.test_request_context():
        account = db.session.scalar(select(Account).where(Account.username == HEALTH_ID))
        return scope_counts(scope_for(account))


def test_a_decision_on_one_host_refreshes_the_other_hosts_counts(app, fresh_world, database_url, storage_root,
                                                                 redis_server):
    from app.extensions import db
    from app.models import (Organisation, OrganisationStatus, OrganisationType, ReviewKind, ReviewRequest,
                            ReviewStatus)

    _process, url = redis_server
    host_a, host_b = (_host(database_url, storage_root, url) for _ in range(2))
    before = _health_counts(host_b)
    # a change nobody announces: host B keeps its cached figures (the cache is real) ...
    with host_a.app_context():
        unit = db.session.scalar(select(Organisation.id).where(Organisation.name == "湖北省人民医院"))
        db.session.execute(update(Organisation).where(Organisation.id == unit)
                           .values(status=OrganisationStatus.disabled))
        db.session.commit()
        assert _health_counts(host_a)["employer"] == before["employer"] - 1   # A had nothing cached
        assert _health_counts(host_b) == before                              # B answers from its cache
        db.session.execute(update(Organisation).where(Organisation.id == unit)
                           .values(status=OrganisationStatus.approved))
        db.session.commit()
        ids = list(db.session.scalars(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind.unit_registration, ReviewRequest.status == ReviewStatus.pending)))
    assert ids
    # ... and a decision on host A makes host B compute them again at its next use
    client = host_a.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, HEALTH_ID)}"}
    response = client.post("/api/v1/review/unit_registration/approve", json={"ids": ids}, headers=headers)
    assert response.status_code == 200 and response.json["done"] == len(ids)
    started = time.monotonic()
    after = _health_counts(host_b)
    assert time.monotonic() - started < 1.0
    with host_a.app_context():
        approved_units = len(list(db.session.scalars(select(ReviewRequest.org_id).where(
            ReviewRequest.id.in_(ids), ReviewRequest.status == ReviewStatus.approved))))
        assert approved_units == len(ids)
        kinds = dict(db.session.execute(select(Organisation.id, Organisation.type).where(
            Organisation.id.in_(select(ReviewRequest.org_id).where(ReviewRequest.id.in_(ids))))).all())
    grown = sum(1 for kind in kinds.values() if kind == OrganisationType.employer)
    assert after["employer"] == before["employer"] + grown and grown > 0


def test_login_rate_limits_are_counted_across_hosts(database_url, storage_root, redis_server):
    _process, url = redis_server
    host_a, host_b = (_host(database_url, storage_root, url) for _ in range(2))
    address = {"REMOTE_ADDR": "10.20.30.40"}
    answers = []
    for host in (host_a, host_b, host_a, host_b):
        client = host.test_client()
        client.environ_base.update(address)
        # an unknown number: counts for the limiter, never towards a real account's lockout
        answers.append(login(client, "110105194912310021", "wrong-password").status_code)
    assert 429 not in answers[:3] and answers[3] == 429               # 3 per minute, whichever host counted


def test_without_redis_login_lists_and_decisions_keep_working(app, fresh_world, database_url, storage_root,
                                                                redis_server):
    from app.extensions import db
    from app.models import ReviewKind, ReviewRequest, ReviewStatus

    process, url = redis_server
    host = _host(database_url, storage_root, url)
    assert host.test_client().get("/readyz").json["redis"] == "ok"
    process.kill()
    process.wait(timeout=10)
    client = host.test_client()
    client.environ_base.update({"REMOTE_ADDR": "10.20.30.41"})
    response = login(client, HEALTH_ID)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    for url_ in ("/", "/persons/list/", "/review/person_registration/list/"):
        assert client.get(url_).status_code == 200, url_
    with host.app_context():
        ids = list(db.session.scalars(select(ReviewRequest.id).where(
            ReviewRequest.kind == ReviewKind.unit_registration, ReviewRequest.status == ReviewStatus.pending)))
    api = host.test_client()
    headers = {"Authorization": f"Bearer {api_token(api, HEALTH_ID)}"}
    decided = api.post("/api/v1/review/unit_registration/approve", json={"ids": ids}, headers=headers)
    assert decided.status_code == 200 and decided.json["done"] == len(ids)
    ready = host.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json == {"database": "ok", "redis": "error", "storage": "ok"}
