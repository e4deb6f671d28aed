"""case_uses: each form downloaded prefilled from a case and each pack built with it, for the
case page; cases.closed_at: a case closed (archived), hidden from lists until reopened

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from service.store.models import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("what", sa.String(length=80), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_uses_case_id", "case_uses", ["case_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("closed_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("closed_at")
    op.drop_index("ix_case_uses_case_id", table_name="case_uses")
    op.drop_table("case_uses")
