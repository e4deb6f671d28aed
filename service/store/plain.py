"""The hottest statements, compiled once and run on the database driver's own connection.

A request's smallest pieces of work — the API token's check, the case an upload belongs to,
an upload's row and every audit entry (the chain's head read, the entry written, the head moved)
— are a handful of statements built once at import. Through SQLAlchemy each execution cost
about 40–70 µs of Python (measured: the token's check 76 µs; the same read on the driver 5 µs),
and an upload ran eight of them: a tenth of a server process's time under load. Here each
statement is compiled once per dialect and set of parameter names, with what SQLAlchemy would do
to each value on the way in (a time with its zone written as SQLite stores it) and on the way out
(booleans, times given their zone back, rows named as SQLAlchemy names them), and is then run
on the driver connection underneath — in the caller's transaction, which SQLAlchemy still
begins, commits and rolls back.

Only statements whose values are all given are run here: one that needs a value SQLAlchemy
would make (a column's default) or a parameter left out is refused when it is compiled."""

from __future__ import annotations

import threading
from collections import namedtuple

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect


class Compiled:
    """One statement for one dialect, its parameters named ``keys`` (a SET or VALUES clause
    holds exactly those columns)."""

    def __init__(self, statement, dialect: Dialect, keys: frozenset[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError("a column default to fill in: run this statement through SQLAlchemy")
        missing = [name for name, bind in compiled.binds.items() if name not in keys and bind.required]
        if missing:
            raise ValueError(f"no value given for {', '.join(missing)}")
        self.sql = compiled.string
        self.positional = dialect.positional
        names = list(compiled.positiontup) if self.positional else list(compiled.binds)
        self.params = [(name, name in keys, compiled.binds[name].value,
                        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]
        columns = list(getattr(statement, "selected_columns", None) or [])
        self.row = namedtuple("Row", [c.key for c in columns]) if columns else None  # a repeated name: label it
        self.convert = [(i, c.type.dialect_impl(dialect).result_processor(dialect, None)) for i, c in enumerate(columns)]
        self.convert = [(i, f) for i, f in self.convert if f is not None]
        self.statement = statement  # held, so the id it is known by is not reused

    def values(self, params: dict):
        """The driver's parameters: positional, or by name (PostgreSQL's driver)."""
        out = []
        for name, given, constant, bind in self.params:
            value = params[name] if given else constant
            out.append(value if bind is None else bind(value))
        return out if self.positional else {p[0]: v for p, v in zip(self.params, out)}

    def shape(self, found):
        """A driver's row as SQLAlchemy gives it: values converted, fields named."""
        if found is None:
            return None
        if self.convert:
            found = list(found)
            for i, convert in self.convert:
                found[i] = convert(found[i])
        return self.row(*found)


_compiled: dict[tuple, Compiled] = {}
_lock = threading.Lock()


def compiled(statement, dialect: Dialect, keys) -> Compiled:
    key = (id(statement), dialect.name, frozenset(keys))
    found = _compiled.get(key)
    if found is None:
        with _lock:
            found = _compiled.get(key)
            if found is None:
                found = _compiled[key] = Compiled(statement, dialect, frozenset(keys))
    return found


def execute(connection: Connection, statement, params: dict | None = None):
    """Run ``statement`` with ``params`` on ``connection``'s driver connection, in its
    transaction (begun first if it has none, as ``connection.execute`` would); the driver's
    cursor."""
    params = params or {}
    plan = compiled(statement, connection.dialect, params)
    if not connection.in_transaction():
        connection.begin()
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.execute(plan.sql, plan.values(params))
    return cursor


def first(connection: Connection, statement, params: dict | None = None):
    """The first row of a SELECT run as ``execute`` runs it, or None."""
    params = params or {}
    return compiled(statement, connection.dialect, params).shape(execute(connection, statement, params).fetchone())


def first_on(driver_connection, dialect: Dialect, statement, params: dict):
    """``first`` on a driver connection of our own (no SQLAlchemy connection around it)."""
    plan = compiled(statement, dialect, params)
    return plan.shape(driver_connection.execute(plan.sql, plan.values(params)).fetchone())
