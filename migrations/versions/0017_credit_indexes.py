"""credit hours at scale (issue 12): the name index carries the person's id too

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-01 18:40:00

The credit review list's name filter (``person_id IN (SELECT id FROM person WHERE name LIKE '王%' AND
org_path LIKE '<subtree>%')``) and every other "persons of the subtree by name prefix" subquery read
``person.id``: with the id in the index (INCLUDE, PostgreSQL) the subquery is an index-only scan instead of
a BitmapAnd of the name and path indexes plus a visit of every matching row (docs/benchmark.md, "Credit
hours (issue 12)"). Name, path and id do not change on approvals, so updates stay HOT.
"""
from alembic import op


revision = '0017'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name')
        batch_op.create_index('ix_person_name', ['name'], unique=False,
                              postgresql_ops={'name': 'varchar_pattern_ops'},
                              postgresql_include=['org_path', 'id'])


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name')
        batch_op.create_index('ix_person_name', ['name'], unique=False,
                              postgresql_ops={'name': 'varchar_pattern_ops'},
                              postgresql_include=['org_path'])
