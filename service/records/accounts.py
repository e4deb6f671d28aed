"""Users, teams, roles, API tokens and web sessions.

Passwords are hashed with scrypt (hashlib; n=2**14, r=8, p=1, 16-byte salt). API tokens and
session tokens are random (32 bytes, URL-safe) and stored only as SHA-256 hashes, so a copy of
the database does not let anyone log in. Roles: practitioner < manager < admin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, func, select

from ..errors import AccessError, Conflict, NotFound, RecordInvalid
from ..settings import ROLES
from ..store import Database, ReadElsewhere, record
from ..store.models import ApiToken, AuditEntry, Team, User, WebSession

_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,78}[a-z0-9]$")  # an e-mail address too, for single sign-on
MIN_PASSWORD = 12
NO_PASSWORD = "!sso"  # matches no password: the user signs in with single sign-on only


@dataclass(frozen=True)
class Actor:
    """Who is acting: the fields every check and audit entry needs."""

    user_id: int
    username: str
    role: str
    team_id: int
    team: str

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def require(self, role: str) -> None:
        if not self.at_least(role):
            raise AccessError(f"This needs the {role} role.", "forbidden")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.urlsafe_b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.urlsafe_b64decode(salt), dklen=len(expected),
                                n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))  # so an unknown user costs the same time


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


def create_team(db: Database, name: str) -> int:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise RecordInvalid("A team name is 1 to 120 characters.")
    with db.session() as s:
        existing = s.scalar(select(Team).where(Team.name == name))
        if existing is not None:
            return existing.id
        team = Team(name=name)
        s.add(team)
        s.flush()
        record(s, db.sealer, user_id=None, username="(setup)", action="team.create", target=f"team:{team.id}")
        return team.id


def create_user(db: Database, username: str, password: str | None, *, role: str, team: str) -> Actor:
    """A new user in ``team`` (made if new). Usernames are lower-case; passwords at least 12
    characters; no password (None): the user signs in only with single sign-on."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise RecordInvalid("A username is 3 to 80 characters: lower-case letters, digits, '.', '_', '-' or '@'.")
    if role not in ROLES:
        raise RecordInvalid(f"The role must be one of {', '.join(ROLES)}.")
    if password is not None and len(password) < MIN_PASSWORD:
        raise RecordInvalid(f"A password is at least {MIN_PASSWORD} characters.")
    team_id = create_team(db, team)
    with db.session() as s:
        if s.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(f"There is already a user called {username}.", "user_exists")
        user = User(username=username, password_hash=hash_password(password) if password is not None else NO_PASSWORD,
                    role=role, team_id=team_id, active=True, created_at=_now())
        s.add(user)
        s.flush()
        record(s, db.sealer, user_id=None, username="(setup)", action="user.create", target=f"user:{user.id}",
               detail=f"role {role}")
        return Actor(user.id, user.username, role, team_id, " ".join(team.split()))


def _actor(s, user: User) -> Actor:
    team = s.get(Team, user.team_id)
    return Actor(user.id, user.username, user.role, user.team_id, team.name if team else "")


def actor_for(db: Database, username: str) -> Actor:
    """The user called ``username`` (for the command line, which the machine's owner runs)."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFound(f"There is no user called {username.strip().lower()}.")
        return _actor(s, user)


MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """The user, if the password is right. After MAX_FAILURES wrong passwords for a username
    within LOCKOUT (counted from the audit log, since the last good login), that username is
    refused for the rest of the period whatever is typed. Every attempt is audited."""
    name = username.strip().lower()[:80]
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == name))
        if recent_failures(s, name, user.unlocked_at if user else None) >= MAX_FAILURES:
            record(s, db.sealer, user_id=None, username=name, action="login", outcome="throttled")
            outcome = "throttled"
        else:
            good = check_password(password, user.password_hash if user else _DUMMY_HASH)
            if user is not None and good and user.active:
                record(s, db.sealer, user_id=user.id, username=user.username, action="login")
                return _actor(s, user)
            record(s, db.sealer, user_id=user.id if user else None, username=name, action="login", outcome="denied")
            outcome = "denied"
    # raised after the block, so the refusal's audit entry is committed
    if outcome == "throttled":
        raise AccessError("Too many wrong passwords for this username; wait 15 minutes and try again.",
                          "too_many_attempts")
    raise AccessError("The username or password is not right.", "unauthenticated")


def recent_failures(s, name: str, unlocked_at: datetime | None = None) -> int:
    """Wrong passwords for ``name`` in the last LOCKOUT, since its last good login or since an
    administrator unlocked it."""
    since = max(_now() - LOCKOUT, unlocked_at or datetime.min.replace(tzinfo=timezone.utc))
    last_good = s.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.username == name, AuditEntry.action == "login", AuditEntry.outcome == "ok", AuditEntry.at >= since))
    return s.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.username == name, AuditEntry.action == "login", AuditEntry.outcome == "denied",
        AuditEntry.at >= (last_good or since))) or 0


TOKEN_DAYS = 90  # how long a token lasts unless it is made for longer (or for ever)
MAX_TOKEN_DAYS = 3650


def create_token(db: Database, actor: Actor, name: str, *, days: int | None = TOKEN_DAYS) -> str:
    """A new API token for ``actor``, valid for ``days`` (None: until revoked); shown once,
    stored as a hash."""
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise RecordInvalid(f"A token lasts from 1 to {MAX_TOKEN_DAYS} days.")
    token = "sdf_" + secrets.token_urlsafe(32)
    now = _now()
    with db.session() as s:
        row = ApiToken(user_id=actor.user_id, token_hash=_token_hash(token), name=name[:80] or "token",
                       created_at=now, revoked=False, expires_at=now + timedelta(days=days) if days else None)
        s.add(row)
        s.flush()
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="token.create",
               target=f"token:{row.id}", detail=f"{days} days" if days else "no expiry")
    return token


def _token_view(row: ApiToken, owner: str) -> dict:
    now = _now()
    state = "revoked" if row.revoked else ("expired" if row.expires_at and row.expires_at <= now else "active")
    return {"id": row.id, "name": row.name, "owner": owner, "created_at": row.created_at, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at, "state": state}


def list_tokens(db: Database, actor: Actor) -> list[dict]:
    """The actor's own tokens; an admin sees every token of the team."""
    with db.session() as s:
        query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
        query = query.where(User.team_id == actor.team_id) if actor.role == "admin" else \
            query.where(ApiToken.user_id == actor.user_id)
        return [_token_view(row, owner) for row, owner in s.execute(query.order_by(ApiToken.id)).all()]


def revoke_token(db: Database, actor: Actor, token_id: object) -> dict:
    """Revoke a token: the actor's own, or (an admin) any of the team's. Another's token answers
    as not found, audited."""
    with db.session() as s:
        row = (s.get(ApiToken, token_id) if isinstance(token_id, int) and not isinstance(token_id, bool)
               and 0 < token_id < 2 ** 63 else None)  # beyond a 64-bit row id: no such token
        owner = s.get(User, row.user_id) if row is not None else None
        mine = owner is not None and (owner.id == actor.user_id or (actor.role == "admin" and owner.team_id == actor.team_id))
        if not mine:
            s.rollback()
            with db.session() as log:
                record(log, db.sealer, user_id=actor.user_id, username=actor.username, action="token.revoke",
                       target=f"token:{str(token_id)[:40]}", outcome="denied")
            raise NotFound("There is no such token, or it is not yours.")
        if not row.revoked:
            row.revoked, row.revoked_at = True, _now()
        record(s, db.sealer, user_id=actor.user_id, username=actor.username, action="token.revoke",
               target=f"token:{row.id}")
        return _token_view(row, owner.username)


_ACTOR_COLUMNS = (User.id, User.username, User.role, User.team_id, Team.name, User.active)
# built once (each request runs one): building a statement costs more than running it
_BY_TOKEN = (select(*_ACTOR_COLUMNS, ApiToken.expires_at).join(ApiToken, ApiToken.user_id == User.id)
             .join(Team, Team.id == User.team_id)
             .where(ApiToken.token_hash == bindparam("hash"), ApiToken.revoked.is_(False)))
_BY_SESSION = (select(*_ACTOR_COLUMNS, WebSession.expires_at, WebSession.csrf_token)
               .join(WebSession, WebSession.user_id == User.id).join(Team, Team.id == User.team_id)
               .where(WebSession.id == bindparam("hash")))


def resolve_token(db: Database, token: str) -> Actor:
    """Who an API token belongs to: one indexed read, which never waits for a writer (on
    PostgreSQL the row found is kept until a user, team or token changes: ``db.credentials``)."""
    key = _token_hash(token)
    generation = db.credentials.generation()
    with db.read() as conn:
        row = conn.execute(_BY_TOKEN, {"hash": key}).first()
    db.credentials.put(key, row, generation)
    return _token_actor(row)


def resolve_token_in_place(db: Database, token: str) -> Actor | None:
    """``resolve_token`` without leaving the calling thread, for the event loop: the row kept
    for it (PostgreSQL), or read on the thread's own connection (SQLite,
    ``Database.first_in_place``); ``None`` when neither can be done, so the caller uses
    ``resolve_token`` in a thread. Refused tokens raise, as there (the expiry is checked each
    time, kept or not)."""
    key = _token_hash(token)
    kept = db.credentials.get(key)
    if kept is not None:
        return _token_actor(kept)
    try:
        return _token_actor(db.first_in_place(_BY_TOKEN, {"hash": key}))
    except ReadElsewhere:
        return None


def _token_actor(row) -> Actor:
    if row is not None and row.expires_at is not None and row.expires_at <= _now():
        raise AccessError("The API token has expired; make a new one.", "unauthenticated")
    if row is None or not row.active:
        raise AccessError("The API token is not valid.", "unauthenticated")
    return Actor(row.id, row.username, row.role, row.team_id, row.name)


@dataclass(frozen=True)
class SessionInfo:
    token: str
    csrf_token: str
    expires_at: datetime


def start_session(db: Database, actor: Actor, *, via: str = "password") -> SessionInfo:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(hours=db.settings.session_hours)
    with db.session() as s:
        s.add(WebSession(id=_token_hash(token), user_id=actor.user_id, csrf_token=csrf, expires_at=expires,
                         created_at=now, via=via))
    return SessionInfo(token, csrf, expires)


def session_id(token: str) -> str:
    """How a session is known in the database (and on the pages that list sessions): the hash
    of its cookie's token, which cannot be turned back into the token."""
    return _token_hash(token)


def resolve_session(db: Database, token: str) -> tuple[Actor, str]:
    """The user and CSRF token of a live web session (a read, as for tokens)."""
    with db.read() as conn:
        row = conn.execute(_BY_SESSION, {"hash": _token_hash(token)}).first()
    if row is None or row.expires_at < _now():
        raise AccessError("Your session has ended; please log in again.", "unauthenticated")
    if not row.active:
        raise AccessError("Your account is not active.", "unauthenticated")
    return Actor(row.id, row.username, row.role, row.team_id, row.name), row.csrf_token


def end_session(db: Database, token: str) -> None:
    with db.session() as s:
        row = s.get(WebSession, _token_hash(token))
        if row is not None:
            s.delete(row)

