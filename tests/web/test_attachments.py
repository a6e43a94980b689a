"""Attachments: checks by extension and content, scoped downloads, audited replace and delete."""
from __future__ import annotations

import io
import os
import zipfile

import pytest
from sqlalchemy import func, select

from app.actor import Actor
from tests.conftest import EDU_ID, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG_WITH_HTML = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16 + b"<html><script>alert(document.cookie)</script></html>"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _files(storage_root) -> set:
    return set(os.listdir(storage_root)) if os.path.isdir(storage_root) else set()


@pytest.fixture()
def checks(app):
    from app.services import attachments

    with app.test_request_context():
        yield attachments


@pytest.mark.parametrize("name,data,message", [
    ("run.pdf", b"#!/bin/sh\nrm -rf /\n", "文件内容与扩展名不符"),
    ("setup.exe", b"MZ\x90\x00", "不允许的文件类型"),
    ("page.html", b"<html></html>", "不允许的文件类型"),
    ("noext", PDF, "不允许的文件类型"),
    ("../../etc/passwd.pdf", PDF, "文件名不合法"),
    ("..\\..\\boot.pdf", PDF, "文件名不合法"),
    (".hidden.pdf", PDF, "文件名不合法"),
    ("a\x00.pdf", PDF, "文件名不合法"),
    ("证" * 120 + ".pdf", PDF, "文件名过长"),
    ("empty.pdf", b"", "文件为空"),
    ("photo.png", b"\xff\xd8\xff\xe0 jpeg bytes", "文件内容与扩展名不符"),
    ("fake.docx", _zip({"hello.txt": b"x"}), "文件内容与扩展名不符"),
    ("broken.zip", b"PK\x03\x04garbage", "文件内容与扩展名不符"),
])
def test_bad_uploads_are_refused_in_chinese(checks, name, data, message):
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        checks.check_upload(name, io.BytesIO(data))
    assert message in info.value.message


def test_good_uploads_pass_with_size_and_checksum(checks):
    import hashlib

    checked = checks.check_upload("证明.pdf", io.BytesIO(PDF))
    assert (checked.size, checked.sha256, checked.content_type) == (len(PDF), hashlib.sha256(PDF).hexdigest(),
                                                                    "application/pdf")
    docx = _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"})
    assert checks.check_upload("报告.docx", io.BytesIO(docx)).extension == "docx"
    assert checks.check_upload("材料.zip", io.BytesIO(_zip({"a.txt": b"a" * 1000}))).size > 0


def test_the_size_limit_comes_from_configuration_and_the_message_shows_it(app, checks, monkeypatch):
    from app.errors import InvalidInput

    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024 * 1024)
    with pytest.raises(InvalidInput) as info:
        checks.check_upload("大文件.pdf", io.BytesIO(b"%PDF-" + b"0" * (1024 * 1024)))
    assert "1 MB" in info.value.message
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    assert "20 MB" in checks.upload_help()


def test_a_zip_bomb_is_refused(app, checks, monkeypatch):
    from app.errors import InvalidInput

    bomb = _zip({f"{i}.txt": b"\x00" * (30 * 1024 * 1024) for i in range(8)})   # 240 MB in ~250 KB
    assert len(bomb) < 1024 * 1024
    with pytest.raises(InvalidInput) as info:
        checks.check_upload("资料.zip", io.BytesIO(bomb))
    assert "解压后超过" in info.value.message
    many = _zip({f"{i}.txt": b"x" for i in range(50)})
    monkeypatch.setitem(app.config, "ZIP_MAX_ENTRIES", 10)
    with pytest.raises(InvalidInput):
        checks.check_upload("资料.zip", io.BytesIO(many))


def test_a_zip_that_lies_about_its_size_is_still_stopped(app, checks, monkeypatch):
    """The budget counts bytes really unpacked, not what the headers claim."""
    from app.errors import InvalidInput

    data = bytearray(_zip({"big.txt": b"\x00" * (5 * 1024 * 1024)}))
    # rewrite the uncompressed size in the central directory to 1 byte
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1).to_bytes(4, "little")
    local = data.find(b"PK\x03\x04")
    data[local + 22:local + 26] = (1).to_bytes(4, "little")
    monkeypatch.setitem(app.config, "ZIP_MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    with pytest.raises(InvalidInput):
        checks.check_upload("资料.zip", io.BytesIO(bytes(data)))


def _attach(app, name, data, org_name="湖北省人民医院", uploader=HEALTH_ID):
    from app.extensions import db
    from app.models import Account, Organisation
    from app.services import attachments

    with app.test_request_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == org_name))
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == uploader)))
        (row,) = attachments.attach("review_request", 999999, org.path,
                                    [attachments.check_upload(name, io.BytesIO(data))], actor=actor)
        return row.id


def test_downloads_are_scoped_and_served_as_attachments_only(app, fresh_world, client_for):
    pk = _attach(app, "证书 照片.png", PNG_WITH_HTML)
    for who in (HEALTH_ID, PROVINCE_ID, HOSPITAL_ID):
        response = client_for(who).get(f"/attachments/{pk}/download")
        assert response.status_code == 200, who
        assert response.data == PNG_WITH_HTML
    assert response.mimetype == "image/png"                 # from the checked extension, never sniffed
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E8%AF%81%E4%B9%A6%20%E7%85%A7%E7%89%87.png" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    edu = client_for(EDU_ID)
    assert edu.get(f"/attachments/{pk}/download").status_code == 404    # another department
    for bad in ("0", "-1", "abc", "99999999999", "1%2F..%2F..", str(pk) + ".pdf"):
        assert client_for(HEALTH_ID).get(f"/attachments/{bad}/download").status_code == 404, bad
    anonymous = app.test_client().get(f"/attachments/{pk}/download")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_replace_and_delete_are_audited_and_files_follow_the_transaction(app, fresh_world, storage_root):
    from app.errors import NotFound
    from app.extensions import db
    from app.models import Account, Attachment, AuditLog
    from app.services import attachments
    from app.storage import get_storage

    pk = _attach(app, "旧.pdf", PDF)
    with app.test_request_context():
        old = db.session.get(Attachment, pk).server_name
        health = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        edu = Actor.of(db.session.scalar(select(Account).where(Account.username == EDU_ID)))
        with pytest.raises(NotFound):
            attachments.delete(pk, actor=edu)                       # out of scope: 404, nothing changed
        new = b"%PDF-1.7\nnew\n%%EOF\n"
        row = attachments.replace(pk, attachments.check_upload("新.pdf", io.BytesIO(new)), actor=health)
        assert row.original_name == "新.pdf" and row.size == len(new)
        assert not get_storage().exists(old) and get_storage().exists(row.server_name)
        current = row.server_name
        attachments.delete(pk, actor=health)
        assert db.session.get(Attachment, pk) is None and not get_storage().exists(current)
        actions = list(db.session.scalars(select(AuditLog.action).where(
            AuditLog.object_type == "attachment", AuditLog.object_id == pk).order_by(AuditLog.id)))
        assert actions == ["attach_file", "replace_file", "delete_file"]


def test_a_rolled_back_attach_leaves_no_file(app, fresh_world, storage_root):
    from app.extensions import db
    from app.models import Account, Attachment
    from app.services import attachments
    from app.services.transaction import transaction

    before = _files(storage_root)
    with app.test_request_context():
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        count = db.session.scalar(select(func.count()).select_from(Attachment))
        with pytest.raises(RuntimeError):
            with transaction():
                attachments.attach("review_request", 1, "/1/", [attachments.check_upload("a.pdf", io.BytesIO(PDF))],
                                   actor=actor)
                raise RuntimeError("the surrounding change failed")
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == count
    assert _files(storage_root) == before


def test_uploading_several_evidence_files_refuses_all_when_one_is_bad(app, fresh_world, storage_root):
    """Through the person's change form: a renamed script among good files stores nothing."""
    from tests.web.test_self_service import change_data, person_changes
    from tests.web.test_public_registration import PASSWORD, approve, new_id_number, register_person
    from tests.conftest import login

    person_id, request_id = register_person(app, 32)
    client = app.test_client()
    login(client, HEALTH_ID)
    approve(client, "person_registration", request_id)
    person = app.test_client()
    login(person, new_id_number(32), PASSWORD, "personnel")
    before = _files(storage_root)
    data = change_data(app, evidence=[(io.BytesIO(PDF), "好.pdf"), (io.BytesIO(b"#!/bin/sh\n"), "坏.pdf")])
    page = person.post("/me/change", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "坏.pdf" in page and "文件内容与扩展名不符" in page
    assert person_changes(app, person_id) == [] and _files(storage_root) == before


def test_demo_world_carries_attachments(app_ctx):
    from app.extensions import db
    from app.models import Attachment
    from app.storage import get_storage

    rows = db.session.scalars(select(Attachment)).all()
    assert len(rows) >= 3
    assert {r.content_type for r in rows} >= {"application/pdf", "image/png"}
    assert all(get_storage().exists(r.server_name) for r in rows)


def test_personnel_have_no_jobs_page_and_see_only_their_own_files(app, fresh_world):
    from tests.conftest import login
    from tests.web.test_public_registration import PASSWORD, approve, new_id_number, register_person

    _, request_id = register_person(app, 33)
    admin = app.test_client()
    login(admin, HEALTH_ID)
    approve(admin, "person_registration", request_id)
    person = app.test_client()
    login(person, new_id_number(33), PASSWORD, "personnel")
    response = person.get("/jobs/")
    assert response.status_code in (302, 403) and "/jobs/" not in response.headers.get("Location", "")
    pk = _attach(app, "别人的.pdf", PDF)                   # uploaded by an admin for another record
    assert person.get(f"/attachments/{pk}/download").status_code == 404
