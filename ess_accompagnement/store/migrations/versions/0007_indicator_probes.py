"""indexes that let a year of indicators read phase changes and dispositif entries from indexes alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Additive only (no synced column changes, so the sync schema version stays 6): a period's phase changes
as one range of a covering index instead of a scan of the table; the « first accepted referral to this
dispositif » and « first line of this dispositif granted » probes of domain/indicators.py answered by
(project, dispositif, date) indexes holding the deletion and status they check.
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_phase_change_date_covering', 'phase_change',
                    ['effective_date', 'deleted_at', 'project_id', 'owner_structure_id'], unique=False)
    op.create_index('ix_referral_project_dispositif', 'referral',
                    ['project_id', 'to_dispositif_id', 'answered_on', 'deleted_at', 'answer'], unique=False)
    op.create_index('ix_financing_project_dispositif', 'financing',
                    ['project_id', 'dispositif_id', 'decided_on', 'deleted_at', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_financing_project_dispositif', table_name='financing')
    op.drop_index('ix_referral_project_dispositif', table_name='referral')
    op.drop_index('ix_phase_change_date_covering', table_name='phase_change')
