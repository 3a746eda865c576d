"""person merge: person.merged_into_id and the « pas un doublon » pairs (person_distinct)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

``merged_into_id`` is added with a plain ``ALTER TABLE ... ADD COLUMN`` (no foreign key, no batch copy), so
the person table keeps its capture and derived triggers. The sync capture triggers are generated from the
models and versioned by a hash of their SQL: the next open rebuilds them with the new column and table.
"""

from alembic import op
import sqlalchemy as sa



revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('merged_into_id', sa.Uuid(), nullable=True))
    op.create_table('person_distinct',
    sa.Column('person_a_id', sa.Uuid(), nullable=False),
    sa.Column('person_b_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('owner_structure_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['owner_structure_id'], ['structure.id'], name=op.f('fk_person_distinct_owner_structure_id_structure'), initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['person_a_id'], ['person.id'], name=op.f('fk_person_distinct_person_a_id_person'), initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['person_b_id'], ['person.id'], name=op.f('fk_person_distinct_person_b_id_person'), initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_distinct'))
    )
    with op.batch_alter_table('person_distinct', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_distinct_owner_structure_id'), ['owner_structure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_distinct_person_a_id'), ['person_a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_distinct_person_b_id'), ['person_b_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person_distinct', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_distinct_person_b_id'))
        batch_op.drop_index(batch_op.f('ix_person_distinct_person_a_id'))
        batch_op.drop_index(batch_op.f('ix_person_distinct_owner_structure_id'))
    op.drop_table('person_distinct')
    op.drop_column('person', 'merged_into_id')
