"""Migration 0009: each evidence file of a review request becomes an attachment; its file moves to the store."""
from __future__ import annotations

import hashlib

from sqlalchemy import text


def test_evidence_columns_move_onto_attachments(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db
    from tests.conftest import make_config

    instance = tmp_path / "instance"
    old_uploads, store = instance / "uploads", tmp_path / "files"
    old_uploads.mkdir(parents=True)
    pdf = b"%PDF-1.4\nevidence\n%%EOF\n"
    stored = "0123456789abcdef0123456789abcdef.pdf"
    (old_uploads / stored).write_bytes(pdf)
    application = create_app(make_config(f"sqlite:///{tmp_path / 'm.db'}", STORAGE_ROOT=str(store),
                                         UPLOAD_DIR=str(old_uploads)))
    with application.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO organisation (id, type, name, path, depth, status, created_on) "
                              "VALUES (1, 'province', '省厅', '/1/', 0, 'approved', '2026-01-01')"))
            conn.execute(text(
                "INSERT INTO review_request (id, kind, subject_id, subject_name, org_id, status, submitted_on, "
                "evidence_file, evidence_name) VALUES (7, 'person_change', 1, '张三', 1, 'pending', "
                f"'2026-01-02 03:04:05', '{stored}', '职称证书.pdf')"))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT owner_kind, owner_id, org_path, original_name, server_name, size, "
                                    "sha256, content_type FROM attachment")).one()
            columns = [c[1] for c in conn.execute(text("PRAGMA table_info(review_request)"))]
        assert tuple(row) == ("review_request", 7, "/1/", "职称证书.pdf", stored, len(pdf),
                              hashlib.sha256(pdf).hexdigest(), "application/pdf")
        assert "evidence_file" not in columns and "evidence_name" not in columns
        assert (store / stored).read_bytes() == pdf and not (old_uploads / stored).exists()
        downgrade(revision="0007")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT evidence_file, evidence_name FROM review_request")).one()
        assert tuple(back) == (stored, "职称证书.pdf")
        db.engine.dispose()
