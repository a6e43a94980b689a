"""The S3 file store (STORAGE_BACKEND=s3) under the real attachment service and download view (moto)."""
from __future__ import annotations

import io

import pytest
from moto import mock_aws
from sqlalchemy import select

from app.actor import Actor
from tests.conftest import EDU_ID, HEALTH_ID

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
BUCKET = "jijiao-files"


@pytest.fixture()
def s3(app, monkeypatch):
    """The suite's app with an S3 store (moto's in-process S3) instead of its local folder."""
    from app.storage import storage_from_config

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        store = storage_from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": BUCKET, "S3_REGION": "us-east-1"},
                                    app.instance_path)
        store.client.create_bucket(Bucket=BUCKET)
        local = app.extensions["jijiao_storage"]
        app.extensions["jijiao_storage"] = store
        try:
            yield store
        finally:
            app.extensions["jijiao_storage"] = local


def _keys(store) -> set:
    return {item["Key"] for item in store.client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _actor(username):
    from app.extensions import db
    from app.models import Account

    return Actor.of(db.session.scalar(select(Account).where(Account.username == username)))


def test_upload_download_delete_through_the_attachment_service(app, fresh_world, s3, client_for):
    from app.extensions import db
    from app.models import Attachment, Organisation
    from app.services import attachments

    with app.test_request_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省人民医院"))
        (row,) = attachments.attach("review_request", 999999, org.path,
                                    [attachments.check_upload("证书.pdf", io.BytesIO(PDF))], actor=_actor(HEALTH_ID))
        pk, name = row.id, row.server_name
    assert _keys(s3) == {name}                                        # the bytes are in the bucket
    response = client_for(HEALTH_ID).get(f"/attachments/{pk}/download")
    assert response.status_code == 200 and response.data == PDF      # streamed from S3 after the scope check
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert client_for(EDU_ID).get(f"/attachments/{pk}/download").status_code == 404    # out of scope: never read
    with app.test_request_context():
        attachments.delete(pk, actor=_actor(HEALTH_ID))
        assert db.session.get(Attachment, pk) is None
    assert _keys(s3) == set()                                         # gone once the deletion committed
    assert client_for(HEALTH_ID).get(f"/attachments/{pk}/download").status_code == 404


def test_a_rolled_back_upload_leaves_no_object(app, fresh_world, s3):
    from app.services import attachments
    from app.services.transaction import transaction

    with app.test_request_context():
        with pytest.raises(RuntimeError):
            with transaction():
                attachments.attach("review_request", 1, "/1/", [attachments.check_upload("a.pdf", io.BytesIO(PDF))],
                                   actor=_actor(HEALTH_ID))
                assert len(_keys(s3)) == 1
                raise RuntimeError("the surrounding change failed")
    assert _keys(s3) == set()


def test_objects_stream_and_seek_like_local_files(app, s3, tmp_path):
    from app.storage import new_name

    name = new_name("xlsx")
    data = bytes(range(256)) * 4096
    s3.put(name, io.BytesIO(data))
    assert s3.exists(name) and not s3.exists(new_name("pdf"))
    with s3.open(name) as handle:                                     # downloads only stream
        assert handle.read(10) == data[:10]
        handle.seek(-5, io.SEEK_END)                                  # readers of workbooks and zips seek
        assert handle.read() == data[-5:]
        handle.seek(100)
        assert handle.read(3) == data[100:103]
    local = tmp_path / "result.xlsx"
    local.write_bytes(b"job result")
    moved = new_name("xlsx")
    s3.put(moved, str(local))                                         # a job's result file is moved in
    assert not local.exists() and s3.open(moved).read() == b"job result"
    for bad in ("../etc/passwd", "x" * 32, ""):
        with pytest.raises(FileNotFoundError):
            s3.open(bad)
    with pytest.raises(FileNotFoundError):
        s3.open(new_name("pdf"))
    s3.delete(name)
    s3.delete(name)                                                   # absent: no error
    assert not s3.exists(name) and s3.check()


def test_the_backend_is_chosen_by_configuration(app, tmp_path):
    from app.storage import LocalStorage, S3Storage, storage_from_config

    assert isinstance(storage_from_config({"STORAGE_ROOT": str(tmp_path)}, str(tmp_path)), LocalStorage)
    store = storage_from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ENDPOINT_URL": "http://127.0.0.1:9"},
                                str(tmp_path))
    assert isinstance(store, S3Storage) and store.bucket == "b"
    for wrong in ({"STORAGE_BACKEND": "s3"}, {"STORAGE_BACKEND": "ftp"}):
        with pytest.raises(RuntimeError):
            storage_from_config(wrong, str(tmp_path))


def test_an_unreachable_object_store_answers_503_and_readyz_says_so(app, fresh_world, client_for, monkeypatch):
    """The store is down: the download answers 503 in Chinese (never 500), /readyz reports storage error."""
    from app.extensions import db
    from app.models import Organisation
    from app.services import attachments
    from app.storage import storage_from_config

    with app.test_request_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "湖北省人民医院"))
        (row,) = attachments.attach("review_request", 999999, org.path,
                                    [attachments.check_upload("a.pdf", io.BytesIO(PDF))], actor=_actor(HEALTH_ID))
        pk = row.id
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dead = storage_from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": "http://127.0.0.1:9"},
                               app.instance_path)
    monkeypatch.setitem(app.extensions, "jijiao_storage", dead)
    client = client_for(HEALTH_ID)
    response = client.get(f"/attachments/{pk}/download")
    assert response.status_code == 503
    assert "服务暂时不可用" in response.get_data(as_text=True) and "重试" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200                         # pages that need no file still work
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["storage"] == "error" and ready.json["database"] == "ok"
