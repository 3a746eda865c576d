"""sync engine tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_site',
    sa.Column('site_id', sa.String(length=32), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('structure_id', sa.String(length=32), nullable=True),
    sa.Column('db_path', sa.Text(), nullable=True),
    sa.Column('db_ino', sa.BigInteger(), nullable=True),
    sa.Column('retired', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_sync_site'))
    )
    op.create_table('sync_vv',
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'site', name=op.f('pk_sync_vv'))
    )
    op.create_table('sync_tx',
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('deps', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=32), nullable=True),
    sa.Column('structure', sa.String(length=32), nullable=True),
    sa.Column('schema_ver', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('tx_hash', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('ord', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'site', 'seq', name=op.f('pk_sync_tx'))
    )
    with op.batch_alter_table('sync_tx', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_tx_ord'), ['ord'], unique=False)
    op.create_table('sync_change',
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('tbl', sa.String(length=40), nullable=False),
    sa.Column('pk', sa.String(length=32), nullable=False),
    sa.Column('col', sa.String(length=40), nullable=False),
    sa.Column('val', sa.LargeBinary(), nullable=True),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'site', 'seq', 'idx', name=op.f('pk_sync_change')),
    sqlite_with_rowid=False
    )
    op.create_table('sync_fv',
    sa.Column('tbl', sa.String(length=40), nullable=False),
    sa.Column('pk', sa.String(length=32), nullable=False),
    sa.Column('col', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('val', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('tbl', 'pk', 'col', 'scope', 'site', 'seq', name=op.f('pk_sync_fv')),
    sqlite_with_rowid=False
    )
    op.create_table('sync_pending',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tbl', sa.String(length=40), nullable=False),
    sa.Column('pk', sa.String(length=32), nullable=False),
    sa.Column('col', sa.String(length=40), nullable=False),
    sa.Column('val', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_pending'))
    )
    op.create_table('sync_inbox',
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_hlc', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'site', 'seq', name=op.f('pk_sync_inbox'))
    )
    op.create_table('sync_quarantine',
    sa.Column('tx_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_hlc', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tx_hash', name=op.f('pk_sync_quarantine'))
    )
    op.create_table('sync_bundle',
    sa.Column('bundle_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_site', sa.String(length=32), nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('at_hlc', sa.BigInteger(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('bundle_id', name=op.f('pk_sync_bundle'))
    )
    op.create_table('sync_peer',
    sa.Column('site', sa.String(length=32), nullable=False),
    sa.Column('structure_id', sa.String(length=32), nullable=True),
    sa.Column('vv', sa.Text(), nullable=False),
    sa.Column('last_seen_hlc', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_sync_peer'))
    )


def downgrade() -> None:
    for name in ('sync_peer', 'sync_bundle', 'sync_quarantine', 'sync_inbox', 'sync_pending', 'sync_fv',
                 'sync_change', 'sync_tx', 'sync_vv', 'sync_site'):
        op.drop_table(name)
