"""patients: regions, No. RM counter and format, name search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 20:59:48.345720
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from klinikita.models.patient_search import create_search_objects, drop_search_objects
from klinikita.services.regions import load_regions

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('region',
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('parent_code', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)

    op.create_table('mrn_counter',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_mrn_counter_branch_id_branch')),
    sa.PrimaryKeyConstraint('branch_id', name=op.f('pk_mrn_counter'))
    )
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mrn_format', sa.String(length=60), nullable=False, server_default='{seq:06d}'))

    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_norm', sa.String(length=150).with_variant(sa.String(length=150, collation='C'), 'postgresql'), nullable=False, server_default=''))
        batch_op.drop_index(batch_op.f('ix_patient_nik'))
        batch_op.alter_column('phone', existing_type=sa.String(length=32), type_=sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql'), existing_nullable=False)
        batch_op.create_index('ix_patient_branch_birth_date', ['branch_id', 'birth_date'], unique=False)
        batch_op.create_index('ix_patient_branch_name_norm', ['branch_id', 'name_norm'], unique=False)
        batch_op.create_index('ix_patient_branch_nik', ['branch_id', 'nik'], unique=False)
        batch_op.create_index('ix_patient_branch_phone', ['branch_id', 'phone'], unique=False)

    conn = op.get_bind()
    # Existing patients: the normalized name (as models.people.normalize_name does).
    patient = sa.table('patient', sa.column('id', sa.Integer), sa.column('name', sa.String), sa.column('name_norm', sa.String))
    rows = conn.execute(sa.select(patient.c.id, patient.c.name)).all()
    for row in rows:
        norm = " ".join((row.name or "").split()).casefold()
        conn.execute(patient.update().where(patient.c.id == row.id).values(name_norm=norm))
    # Existing branches: start the counter after the numbers already handed out by the demo
    # seed or an import (the service also skips any number that is taken).
    counts = conn.execute(sa.text("SELECT branch_id, COUNT(*) FROM patient GROUP BY branch_id")).all()
    for branch_id, count in counts:
        conn.execute(sa.text("INSERT INTO mrn_counter (branch_id, last_seq) VALUES (:b, :n)"), {"b": branch_id, "n": count})

    create_search_objects(conn)
    load_regions(conn)


def downgrade() -> None:
    drop_search_objects(op.get_bind())
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_branch_phone')
        batch_op.drop_index('ix_patient_branch_nik')
        batch_op.drop_index('ix_patient_branch_name_norm')
        batch_op.drop_index('ix_patient_branch_birth_date')
        batch_op.create_index(batch_op.f('ix_patient_nik'), ['nik'], unique=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=32), type_=sa.String(length=32), existing_nullable=False)
        batch_op.drop_column('name_norm')

    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_column('mrn_format')

    op.drop_table('mrn_counter')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))

    op.drop_table('region')
