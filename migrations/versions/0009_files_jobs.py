"""attachments and background jobs; the evidence file of review requests moves onto attachments

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 14:30:00

"""
import hashlib
import os
import shutil

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CONTENT_TYPES = {
    "pdf": "application/pdf", "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "zip": "application/zip",
}


def _folders():
    """The old upload folder and the file store (from the app's configuration when there is one)."""
    try:
        from flask import current_app

        instance = current_app.instance_path
        old = current_app.config.get("UPLOAD_DIR") or os.path.join(instance, "uploads")
        new = current_app.config.get("STORAGE_ROOT") or os.path.join(instance, "files")
    except RuntimeError:  # pragma: no cover - alembic run without the app
        return None, None
    return old, new


def upgrade():
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_kind', sa.String(length=50), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('org_path', sa.String(length=255), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('server_name', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_on', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('server_name'),
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_owner', ['owner_kind', 'owner_id'], unique=False)
        batch_op.create_index('ix_attachment_org_path', ['org_path'], unique=False,
                              postgresql_ops={'org_path': 'varchar_pattern_ops'})
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=50), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='job_status',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('message', sa.String(length=1000), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('result_file', sa.String(length=100), nullable=True),
        sa.Column('result_name', sa.String(length=255), nullable=True),
        sa.Column('claim', sa.String(length=64), nullable=True),
        sa.Column('worker', sa.String(length=100), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_on', sa.DateTime(), nullable=False),
        sa.Column('started_on', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_on', sa.DateTime(), nullable=True),
        sa.Column('finished_on', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_owner_id', ['owner_id', 'id'], unique=False)
        batch_op.create_index('ix_job_status', ['status'], unique=False)

    _move_evidence()
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.drop_column('evidence_file')
        batch_op.drop_column('evidence_name')


def _move_evidence():
    """Each evidence file becomes an attachment of its request; the file moves into the file store."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT r.id, r.evidence_file, r.evidence_name, r.submitted_by_id, r.submitted_on, o.path "
        "FROM review_request r JOIN organisation o ON o.id = r.org_id WHERE r.evidence_file IS NOT NULL"
    )).fetchall()
    old, new = _folders()
    for request_id, stored, original, submitter, submitted_on, path in rows:
        name = os.path.basename(stored)
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        size, digest = 0, ""
        source = os.path.join(old, name) if old else None
        if source and os.path.isfile(source):
            with open(source, "rb") as fh:
                data = fh.read()
            size, digest = len(data), hashlib.sha256(data).hexdigest()
            os.makedirs(new, exist_ok=True)
            shutil.move(source, os.path.join(new, name))
        conn.execute(sa.text(
            "INSERT INTO attachment (owner_kind, owner_id, org_path, original_name, server_name, size, sha256, "
            "content_type, uploaded_by_id, uploaded_on) VALUES ('review_request', :owner, :path, :original, "
            ":server, :size, :sha, :ctype, :by, :on)"
        ), dict(owner=request_id, path=path or "", original=(original or name)[:255], server=name, size=size,
                sha=digest, ctype=CONTENT_TYPES.get(ext, "application/octet-stream"), by=submitter,
                on=submitted_on))


def downgrade():
    with op.batch_alter_table('review_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_file', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('evidence_name', sa.String(length=255), nullable=True))
    conn = op.get_bind()
    for owner, server, original in conn.execute(sa.text(
            "SELECT owner_id, server_name, original_name FROM attachment WHERE owner_kind = 'review_request' "
            "ORDER BY id")).fetchall():
        conn.execute(sa.text("UPDATE review_request SET evidence_file = :f, evidence_name = :n WHERE id = :id"),
                     dict(f=server, n=original, id=owner))
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_status')
        batch_op.drop_index('ix_job_owner_id')
    op.drop_table('job')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_org_path')
        batch_op.drop_index('ix_attachment_owner')
    op.drop_table('attachment')
