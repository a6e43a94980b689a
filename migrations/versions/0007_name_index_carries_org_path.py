"""the name index carries org_path (scope checked in the index); the employer+name index goes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 17:40:00

"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_employer_name')
        batch_op.drop_index('ix_person_name')
        batch_op.create_index('ix_person_name', ['name'], unique=False,
                              postgresql_ops={'name': 'varchar_pattern_ops'},
                              postgresql_include=['org_path'])


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name')
        batch_op.create_index('ix_person_name', ['name'], unique=False,
                              postgresql_ops={'name': 'varchar_pattern_ops'},
                              postgresql_include=['employer_id'])
        batch_op.create_index('ix_person_employer_name', ['employer_id', 'name'], unique=False,
                              postgresql_ops={'name': 'varchar_pattern_ops'})
