"""scripts/backup.sh and scripts/restore.sh: a backup of the database with the demo world and the file store,
restored into a fresh database and a fresh folder (and a fresh S3 bucket), gives the same rows and the same bytes.

PostgreSQL only: the scripts use pg_dump and pg_restore, which have no SQLite counterpart (an embedded SQLite
installation is backed up by copying instance/).
"""
from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="backup.sh / restore.sh use pg_dump and pg_restore: PostgreSQL only (set TEST_DATABASE_URL)",
)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://")


@pytest.fixture()
def fresh_database(database_url):
    """An empty database next to the suite's, dropped afterwards."""
    url = make_url(_plain(database_url))
    name = f"{url.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    subprocess.run(["psql", "-X", "-q", admin, "-c", f'CREATE DATABASE "{name}"'], check=True)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        subprocess.run(["psql", "-X", "-q", admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)


def _run(script: str, *args, env: dict) -> str:
    result = subprocess.run(["bash", str(ROOT / "scripts" / script), *map(str, args)], cwd=str(ROOT),
                            env=dict(os.environ, PYTHON=sys.executable, **env), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _count(url: str, table: str) -> int:
    return int(subprocess.run(["psql", "-X", "-q", "-tAc", f"SELECT count(*) FROM {table}", url], check=True,
                              capture_output=True, text=True).stdout.strip())


def _store_a_file(app) -> tuple[str, str]:
    from app.storage import get_storage, new_name

    body = PDF + f"% backup check {uuid.uuid4().hex}\n".encode()
    name = new_name("pdf")
    with app.app_context():
        get_storage().put(name, io.BytesIO(body))
    return name, hashlib.sha256(body).hexdigest()


def test_backup_and_restore_into_a_fresh_database_and_folder(app, database_url, storage_root, fresh_database,
                                                              tmp_path):
    from app.extensions import db
    from app.models import Person

    name, digest = _store_a_file(app)
    with app.app_context():
        persons = db.session.scalar(select(func.count()).select_from(Person))
    assert persons > 100  # the demo world

    backup = tmp_path / "backup"
    _run("backup.sh", backup, env={"DATABASE_URL": database_url, "STORAGE_BACKEND": "local",
                                   "STORAGE_ROOT": storage_root})
    assert {p.name for p in backup.iterdir()} == {"database.dump", "files.tar.gz", "manifest.txt", "SHA256SUMS"}

    restored = tmp_path / "restored-files"
    _run("restore.sh", backup, env={"DATABASE_URL": fresh_database, "STORAGE_BACKEND": "local",
                                    "STORAGE_ROOT": str(restored)})
    assert _count(fresh_database, "person") == persons
    assert _count(fresh_database, "audit_log") == _count(_plain(database_url), "audit_log")
    assert hashlib.sha256((restored / name).read_bytes()).hexdigest() == digest

    # a second restore into the same, now filled database is refused and changes nothing
    again = subprocess.run(["bash", str(ROOT / "scripts" / "restore.sh"), str(backup)], cwd=str(ROOT),
                           env=dict(os.environ, DATABASE_URL=fresh_database, STORAGE_ROOT=str(tmp_path / "other")),
                           capture_output=True, text=True)
    assert again.returncode != 0 and "empty database" in again.stderr
    assert _count(fresh_database, "person") == persons


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def s3_store(tmp_path):
    """moto_server (requirements-dev.txt) on a free port of 127.0.0.1, stopped afterwards."""
    import boto3

    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    log = open(tmp_path / "moto.log", "wb")
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    env = {"S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "S3_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "backup-test", "AWS_SECRET_ACCESS_KEY": "backup-test-secret"}
    client = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="backup-test", aws_secret_access_key="backup-test-secret")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.list_buckets()
                break
            except Exception:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "moto.log").read_text()
                time.sleep(0.2)
        yield client, env
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_backup_and_restore_of_an_s3_file_store(app, database_url, fresh_database, s3_store, tmp_path):
    client, env = s3_store
    client.create_bucket(Bucket="files")
    client.create_bucket(Bucket="restored")
    body = PDF + b"% in the bucket\n"
    name = uuid.uuid4().hex + ".pdf"
    client.put_object(Bucket="files", Key=name, Body=body)

    backup = tmp_path / "backup"
    _run("backup.sh", backup, env={"DATABASE_URL": database_url, "STORAGE_BACKEND": "s3", "S3_BUCKET": "files", **env})
    _run("restore.sh", backup, env={"DATABASE_URL": fresh_database, "STORAGE_BACKEND": "s3", "S3_BUCKET": "restored",
                                    **env})
    restored = client.get_object(Bucket="restored", Key=name)["Body"].read()
    assert hashlib.sha256(restored).hexdigest() == hashlib.sha256(body).hexdigest()
    assert _count(fresh_database, "ab_user") == _count(_plain(database_url), "ab_user")
