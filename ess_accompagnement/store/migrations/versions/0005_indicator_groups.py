"""indexes that let a year of indicators group without sorting (domain/indicators.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Additive only: the appointments by (status, mode, permanence, start), covering what the indicators read,
so that each combination's appointments of a period are one index range; the referrals by outcome and project
(then closing date), so that « activité démarrée » is read from the index alone, for all projects or one.
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_appointment_status_mode_start', 'appointment',
                    ['status', 'mode', 'permanence_id', 'starts_at', 'deleted_at', 'project_id', 'owner_structure_id',
                     'duration_minutes'], unique=False)
    op.create_index('ix_referral_outcome_project', 'referral', ['outcome', 'project_id', 'closed_on', 'deleted_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_referral_outcome_project', table_name='referral')
    op.drop_index('ix_appointment_status_mode_start', table_name='appointment')
