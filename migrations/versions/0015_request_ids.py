"""request ids on audit rows (app/logs.py): a change finds the log lines of the request that made it

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01 18:00:00

Expand-only (docs/production.md): a nullable column; code that does not know it keeps working.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('request_id')
