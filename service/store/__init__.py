"""Storage: SQLAlchemy 2 models, the database engine, Alembic migrations, sealing of stored
data (encryption at rest) and the append-only audit log. Nothing here knows about HTTP."""

from .audit import record, verify_audit
from .db import Database
from .seal import Sealer

__all__ = ["Database", "Sealer", "record", "verify_audit"]
