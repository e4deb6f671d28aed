"""web_sessions: when each began and how (password or single sign-on), for the pages that list
sessions and end them; users: when an administrator last unlocked the account

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from service.store.models import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("created_at", UtcDateTime(), nullable=True))  # NULL: began before this version
        batch.add_column(sa.Column("via", sa.String(length=20), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unlocked_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unlocked_at")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("via")
        batch.drop_column("created_at")
