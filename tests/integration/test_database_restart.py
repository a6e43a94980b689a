"""A PostgreSQL restart under load: requests answer 200 or 503 (never 500), an interrupted batch approval
is all or nothing, and once the server is back every request succeeds again (stale pooled connections are
detected before use: ``pool_pre_ping``).

The test starts its own PostgreSQL instance (initdb + pg_ctl in a temporary folder, on a free port) so it
can stop and restart it; the suite's database is never touched.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from sqlalchemy import event, select

from tests.conftest import HEALTH_ID, api_token, login, make_config

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="restarts a PostgreSQL server: runs when the suite runs on PostgreSQL (TEST_DATABASE_URL)")


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail(f"PostgreSQL's {name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A throw-away PostgreSQL instance; as root its commands run as the postgres user (initdb refuses root)."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="jijiao-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self._run(_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_bin("pg_ctl"), "-D", self.data, "-o", options, "-l", os.path.join(self.folder, "log"), "-w",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server_app(tmp_path_factory):
    """The app on its own PostgreSQL server, migrated and seeded with the demo world."""
    import psycopg2

    from app import create_app
    from app.cli import prepare_database

    server = Server()
    server.init()
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE jijiao")
        conn.close()
        application = create_app(make_config(server.url("jijiao"),
                                             STORAGE_ROOT=str(tmp_path_factory.mktemp("restart-files"))))
        with application.app_context():
            prepare_database(seed_demo_data=True)
        yield server, application
        with application.app_context():
            from app.extensions import db

            db.engine.dispose()
    finally:
        server.remove()


def _pending_registrations(application) -> list[int]:
    """Pending 专技人员 registrations of 湖北省人民医院 (decided by 湖北省卫生健康委员会)."""
    from app.extensions import db
    from app.models import Organisation, ReviewKind, ReviewRequest, ReviewStatus

    with application.app_context():
        ids = list(db.session.scalars(
            select(ReviewRequest.id).join(Organisation, Organisation.id == ReviewRequest.org_id)
            .where(ReviewRequest.kind == ReviewKind.person_registration, ReviewRequest.status == ReviewStatus.pending,
                   Organisation.name == "湖北省人民医院").order_by(ReviewRequest.id)))
        db.session.remove()
        return ids


def _statuses(application, ids) -> set:
    from app.extensions import db
    from app.models import ReviewRequest

    with application.app_context():
        values = set(db.session.scalars(select(ReviewRequest.status).where(ReviewRequest.id.in_(ids))))
        db.session.remove()
        return {v.value for v in values}


def test_requests_during_a_restart_answer_200_or_503_and_recover(server_app):
    server, application = server_app
    urls = ["/", "/persons/list/", "/review/person_registration/list/", "/organisations/list/"]
    clients = []
    for _ in range(3):
        client = application.test_client()
        assert login(client, HEALTH_ID).status_code == 302
        clients.append(client)
    answers: list[tuple[str, int]] = []
    stop = threading.Event()

    def load(client):
        while not stop.is_set():
            for url in urls:
                response = client.get(url)
                answers.append((url, response.status_code))
                response.close()

    threads = [threading.Thread(target=load, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    server.stop("fast")                                      # the database goes away under load ...
    time.sleep(1.5)
    server.start()                                           # ... and comes back
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    statuses = {status for _url, status in answers}
    print(f"restart under load: {len(answers)} requests, "
          f"{sum(1 for _u, s in answers if s == 200)} × 200, {sum(1 for _u, s in answers if s == 503)} × 503")
    assert statuses <= {200, 503}, sorted(statuses)
    assert 503 in statuses and 200 in statuses
    for client in clients:                                   # after the restart every request succeeds
        for url in urls:
            assert client.get(url).status_code == 200, url


def test_an_interrupted_batch_approval_is_all_or_nothing(server_app):
    from app.extensions import db

    server, application = server_app
    ids = _pending_registrations(application)
    assert len(ids) >= 2
    client = application.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, HEALTH_ID)}"}
    with application.app_context():
        engine = db.engine
    killed = threading.Event()

    def kill_mid_batch(conn, cursor, statement, parameters, context, executemany):
        # the statuses are updated; the server dies before the audit rows are written and anything commits
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG") and not killed.is_set():
            killed.set()
            server.stop("immediate")

    event.listen(engine, "before_cursor_execute", kill_mid_batch)
    try:
        response = client.post("/api/v1/review/person_registration/approve", json={"ids": ids}, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", kill_mid_batch)
    assert killed.is_set()
    assert response.status_code == 503 and "重试" in response.json["message"]
    server.start()
    assert _statuses(application, ids) == {"pending"}        # nothing of the batch was kept
    again = client.post("/api/v1/review/person_registration/approve", json={"ids": ids}, headers=headers)
    assert again.status_code == 200 and again.json["done"] == len(ids)
    assert _statuses(application, ids) == {"approved"}       # the retry did all of it
