"""The tables. Child data (case values, a submission's extracted data, change history) is
stored as sealed JSON text (``seal.py``); identifiers, form ids, hashes and times are plain so
they can be searched. The upload itself is never stored: its SHA-256 and size are."""

from __future__ import annotations

from datetime import datetime

from datetime import timezone

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    """A point in time, always handed back with its UTC offset (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("store times with their time zone")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # practitioner | manager | admin
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    unlocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # wrong passwords before: forgiven


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # None: never
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # None: before 0007
    via: Mapped[str | None] = mapped_column(String(20), nullable=True)  # password | sso


class SignIn(Base):
    """A single sign-on begun and not yet finished: single use, kept 10 minutes."""

    __tablename__ = "sign_ins"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    verifier: Mapped[str] = mapped_column(String(128))  # the PKCE code verifier
    next_path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("team_id", "su_number"),
                      UniqueConstraint("team_id", "su_key", name="uq_cases_team_id_su_key"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    su_number: Mapped[str] = mapped_column(String(40))
    su_key: Mapped[str] = mapped_column(String(40))  # case_record.su_key: compared without case or spaces
    values: Mapped[str] = mapped_column(Text)  # sealed JSON: case key -> value
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # None: open


class CaseUse(Base):
    """A form downloaded prefilled from a case, or a meeting pack built with it."""

    __tablename__ = "case_uses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # form | pack
    what: Mapped[str] = mapped_column(String(80))  # the form's or the pack's id
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the batch, for a pack
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseChange(Base):
    """One value of a case changed: nothing is overwritten without a row here."""

    __tablename__ = "case_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    change: Mapped[str] = mapped_column(Text)  # sealed JSON: {"old": ..., "new": ...}
    source: Mapped[str] = mapped_column(String(20))  # entered | submission
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    form: Mapped[str] = mapped_column(String(80), index=True)
    spec_version: Mapped[str] = mapped_column(String(20))
    document_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    document_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    format: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(Text)  # sealed JSON: data, sources, errors, warnings
    error_count: Mapped[int] = mapped_column(Integer)
    warning_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # received | accepted
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AuditEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE); each entry's hash covers the
    previous one, so a changed or removed entry breaks the chain (``verify_audit``)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_username_at", "username", "at"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash. Appending locks it, so entries form one chain
    even when two requests log at once."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Job(Base):
    """A batch of meeting packs built in the background, in parts (``JobPart``). The ZIP lives in
    the file store (``Settings.files_dir``/jobs), named by the job's id, and only once complete."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pack: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # queued | running | done | failed | cancelled | expired
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    current_row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed JSON: rows, built, problems
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    parts: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed JSON: rows that cannot be built


class JobPart(Base):
    """A few meetings of a batch, built by one worker as one task. The meetings are stored
    sealed here (never in the broker's messages); what was built is recorded when the part's
    file is in place, so a part run twice is recorded once."""

    __tablename__ = "job_parts"
    __table_args__ = (UniqueConstraint("job_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued | running | done | failed | stopped
    meetings: Mapped[str] = mapped_column(Text)  # sealed JSON: the part's meeting rows
    size: Mapped[int] = mapped_column(Integer)  # meetings in the part
    built: Mapped[int] = mapped_column(Integer, default=0)
    last_row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)  # host:pid that built it
    heartbeat: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed JSON: folders, files, warnings
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
