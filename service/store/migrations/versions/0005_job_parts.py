"""job_parts: batches split into parts that any worker can build; jobs keep their row problems

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from service.store.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("parts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("problems", sa.Text(), nullable=True))
    op.create_table(
        "job_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("meetings", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("built", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("heartbeat", UtcDateTime(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "number"),
    )
    with op.batch_alter_table("job_parts") as batch_op:
        batch_op.create_index(batch_op.f("ix_job_parts_job_id"), ["job_id"], unique=False)
        batch_op.create_index("ix_job_parts_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_parts") as batch_op:
        batch_op.drop_index("ix_job_parts_status")
        batch_op.drop_index(batch_op.f("ix_job_parts_job_id"))
    op.drop_table("job_parts")
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("problems")
        batch_op.drop_column("parts")
