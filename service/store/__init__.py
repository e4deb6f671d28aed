"""Storage: SQLAlchemy 2 models, the database engine, Alembic migrations, sealing of stored
data (encryption at rest) and the append-only audit log. Nothing here knows about HTTP."""

from .audit import read_checkpoints, record, unrecorded, verify_audit, write_checkpoint
from .db import Database, ReadElsewhere
from .seal import Sealer

__all__ = ["Database", "ReadElsewhere", "Sealer", "read_checkpoints", "record", "unrecorded", "verify_audit", "write_checkpoint"]
