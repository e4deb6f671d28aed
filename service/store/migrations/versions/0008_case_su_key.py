"""cases.su_key: the SU number without case or spaces, unique within a team (one child, one
case). Cases that already clash keep their data: all but the oldest get a key marked with
their id, so nothing is lost and they can be told apart and merged by hand.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _key(su: str) -> str:
    return "".join(su.split()).casefold()  # as service.case_record.su_key (a migration keeps its own copy)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("su_key", sa.String(length=40), nullable=True))
    connection = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("team_id", sa.Integer),
                     sa.column("su_number", sa.String), sa.column("su_key", sa.String),
                     sa.column("created_at", sa.DateTime))
    seen: set[tuple[int, str]] = set()
    for row in connection.execute(sa.select(cases.c.id, cases.c.team_id, cases.c.su_number)
                                  .order_by(cases.c.created_at, cases.c.id)).all():
        key = _key(row.su_number)
        if (row.team_id, key) in seen:
            key = f"{key[:27]}~dup~{row.id[:8]}"
        seen.add((row.team_id, key))
        connection.execute(cases.update().where(cases.c.id == row.id).values(su_key=key))
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("su_key", existing_type=sa.String(length=40), nullable=False)
        batch.create_unique_constraint("uq_cases_team_id_su_key", ["team_id", "su_key"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_team_id_su_key", type_="unique")
        batch.drop_column("su_key")
