"""A new PostgreSQL database for one benchmark run (so runs never see each other's rows),
dropped afterwards. Shared by the benchmarks that take ``--database-url``."""

from __future__ import annotations

import uuid


class FreshPostgres:
    """A new database on the server of ``admin_url`` for one run, dropped afterwards."""

    def __init__(self, admin_url: str) -> None:
        import psycopg  # deferred: only PostgreSQL runs need it

        self.psycopg, self.admin = psycopg, admin_url.replace("postgresql+psycopg://", "postgresql://")
        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name

    def __enter__(self) -> str:
        with self.psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        with self.psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
