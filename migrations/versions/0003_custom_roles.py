"""custom roles: ab_role gets an owning organisation and a display label (manual 5.1.1.3.1)

Template roles keep organisation_id NULL. A custom role stores an internal unique name
("org<organisation id>:<label>") in ab_role.name and the name users see in label, unique per organisation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:36:11.927017

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_role', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('label', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_ab_role_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_unique_constraint('uq_ab_role_organisation_label', ['organisation_id', 'label'])
        batch_op.create_foreign_key('fk_ab_role_organisation_id', 'organisation', ['organisation_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade():
    # custom roles cannot live without their organisation column: drop them (and their grants) first
    op.execute("DELETE FROM ab_permission_view_role WHERE role_id IN "
               "(SELECT id FROM ab_role WHERE organisation_id IS NOT NULL)")
    op.execute("DELETE FROM ab_user_role WHERE role_id IN "
               "(SELECT id FROM ab_role WHERE organisation_id IS NOT NULL)")
    op.execute("DELETE FROM ab_role WHERE organisation_id IS NOT NULL")
    with op.batch_alter_table('ab_role', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ab_role_organisation_id', type_='foreignkey')
        batch_op.drop_constraint('uq_ab_role_organisation_label', type_='unique')
        batch_op.drop_index('ix_ab_role_organisation_id')
        batch_op.drop_column('label')
        batch_op.drop_column('organisation_id')
