"""查询统计: the title-series distribution of a subtree is one index-only range scan

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-01 17:40:00

"""
from alembic import op

revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_org_title', ['org_path', 'title_series_id', 'title_level_id', 'status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_org_title')
