"""indexes for the indicators of a year (domain/indicators.py)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Additive only: a covering index of the appointments by start, and the probes « first phase change
recorded by a structure » and « first accepted referral to a structure » by project.
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_appointment_start_covering', 'appointment',
                    ['starts_at', 'deleted_at', 'project_id', 'owner_structure_id', 'status', 'mode',
                     'permanence_id', 'duration_minutes'], unique=False)
    op.create_index('ix_phase_change_project_owner_date', 'phase_change',
                    ['project_id', 'owner_structure_id', 'effective_date'], unique=False)
    op.create_index('ix_referral_project_to_answered', 'referral', ['project_id', 'to_structure_id', 'answered_on'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_referral_project_to_answered', table_name='referral')
    op.drop_index('ix_phase_change_project_owner_date', table_name='phase_change')
    op.drop_index('ix_appointment_start_covering', table_name='appointment')
