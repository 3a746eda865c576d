"""status history: the status_change table (a synced table, owned by the project's lead structure)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

Additive only: a new synced table (sync schema version 8, same major). A copy still on 0007 keeps the rows it
receives for this table in its log without projecting them, and projects them after its upgrade
(``sync.apply.upgrade_fields``), as for any new column. ``projects.set_status`` writes one row per change, with
the status before and after, so the indicators can tell a project's status as of a past date.
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_STATUSES = ('actif', 'en_veille', 'abandonne', 'activite_demarree', 'clos')


def upgrade() -> None:
    op.create_table('status_change',
    sa.Column('project_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum(*_STATUSES, name='project_status', native_enum=False, create_constraint=True,
                                length=32), nullable=False),
    sa.Column('previous_status', sa.Enum(*_STATUSES, name='previous_project_status', native_enum=False,
                                         create_constraint=True, length=32), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('advisor_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('owner_structure_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['advisor_id'], ['advisor.id'], name=op.f('fk_status_change_advisor_id_advisor'),
                            initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['owner_structure_id'], ['structure.id'],
                            name=op.f('fk_status_change_owner_structure_id_structure'), initially='DEFERRED',
                            deferrable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_status_change_project_id_project'),
                            initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_change'))
    )
    op.create_index('ix_status_change_owner_structure_id', 'status_change', ['owner_structure_id'], unique=False)
    op.create_index('ix_status_change_project_date', 'status_change', ['project_id', 'effective_date', 'deleted_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_status_change_project_date', table_name='status_change')
    op.drop_index('ix_status_change_owner_structure_id', table_name='status_change')
    op.drop_table('status_change')
