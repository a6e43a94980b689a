"""credentials: a per-account credential version, checked on every web request and JWT

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00

A password change, a reset, a logout, disabling or a role change bump ab_user.credential_version; a
session cookie or a token carrying an older version is refused (issue 8, finding 8).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_version', sa.Integer(), server_default=sa.text('0'),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('credential_version')
