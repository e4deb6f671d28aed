"""Alembic environment: run migrations on the connection the service hands over
(``Database.migrate``), or on DATABASE_URL when run with the alembic command."""

from alembic import context
from sqlalchemy import create_engine

from service.settings import Settings
from service.store.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata,
                      render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    with create_engine(Settings.from_env().database_url).begin() as conn:
        _run(conn)
