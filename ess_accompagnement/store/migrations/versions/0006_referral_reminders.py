"""referral reminders: referral.reminded_on and referral.reminder_count (sender-owned)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Additive only: two nullable columns added with a plain ``ALTER TABLE ... ADD COLUMN`` (no batch copy), so the
referral table keeps its capture and derived triggers. The sync capture triggers are generated from the models
and versioned by a hash of their SQL: the next open rebuilds them with the new columns. Both fields are written
by the sending structure only (they are not in sync/scopes.py REFERRAL_RECEIVER_FIELDS).
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('referral', sa.Column('reminded_on', sa.Date(), nullable=True))
    op.add_column('referral', sa.Column('reminder_count', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain ``ALTER TABLE ... DROP COLUMN`` (SQLite >= 3.35), as 0004 does: a batch copy of the table would drop
    # and rename ``referral``, which the derived triggers of other tables (trg_project_ins…) refer to.
    op.drop_column('referral', 'reminder_count')
    op.drop_column('referral', 'reminded_on')
