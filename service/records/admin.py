"""Administration without a shell: an administrator manages the users, API tokens and sessions
of their own team (and may make teams and move a user to another); everyone manages their own
password, sessions and tokens. Every change is audited, and so is every refusal.

Two rules keep a team administrable: an administrator cannot deactivate themselves, and the
last active administrator of a team cannot be demoted, moved or deactivated. A password made
here (a new user's, or a reset) is random, returned once and stored only as its hash; a reset,
a password change and a deactivation end the user's sessions.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from sqlalchemy import delete, func, select

from ..errors import AccessError, Conflict, NotFound, RecordInvalid
from ..settings import ROLES
from ..store import Database, record
from ..store.models import ApiToken, Team, User, WebSession
from .accounts import (
    MAX_FAILURES, MIN_PASSWORD, NO_PASSWORD, Actor, _token_view, check_password, create_team, create_token,
    create_user, hash_password, recent_failures,
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def new_password() -> str:
    """A password to pass on once: 20 characters, about 120 bits."""
    return secrets.token_urlsafe(15)


def _admin(db: Database, actor: Actor, action: str, target: str = "") -> None:
    if not actor.at_least("admin"):
        with db.session() as s:
            record(s, db.sealer, user_id=actor.user_id, username=actor.username, action=action, target=target,
                   outcome="denied")
        raise AccessError("This needs the admin role.", "forbidden")


def _audit(s, db: Database, actor: Actor, action: str, target: str, detail: str = "") -> None:
    record(s, db.sealer, user_id=actor.user_id, username=actor.username, action=action, target=target, detail=detail)


def _user_view(s, user: User, team: str) -> dict:
    now = _now()
    sessions = s.scalar(select(func.count()).select_from(WebSession)
                        .where(WebSession.user_id == user.id, WebSession.expires_at > now)) or 0
    tokens = s.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked.is_(False),
        (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))) or 0
    return {"id": user.id, "username": user.username, "role": user.role, "team": team, "active": user.active,
            "created_at": user.created_at, "password": user.password_hash != NO_PASSWORD,
            "locked": recent_failures(s, user.username, user.unlocked_at) >= MAX_FAILURES,
            "sessions": sessions, "tokens": tokens}


def list_users(db: Database, actor: Actor) -> list[dict]:
    """The users of the administrator's team, by username."""
    _admin(db, actor, "user.list")
    with db.session() as s:
        users = s.scalars(select(User).where(User.team_id == actor.team_id).order_by(User.username)).all()
        return [_user_view(s, u, actor.team) for u in users]


def _team_user(s, db: Database, actor: Actor, user_id: object, action: str) -> User:
    """A user of the administrator's team; another team's (or none) answers as not found, audited."""
    user = s.get(User, user_id) if isinstance(user_id, int) and 0 < user_id < 2 ** 63 else None
    if user is None or user.team_id != actor.team_id:
        s.rollback()
        with db.session() as log:
            record(log, db.sealer, user_id=actor.user_id, username=actor.username, action=action,
                   target=f"user:{str(user_id)[:40]}", outcome="denied")
        raise NotFound("There is no such user in your team.")
    return user


def get_user(db: Database, actor: Actor, user_id: int) -> dict:
    """One user of the team, with their live sessions and their tokens."""
    _admin(db, actor, "user.view", f"user:{user_id}")
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, "user.view")
        shown = _user_view(s, user, actor.team)
        shown["session_list"] = _sessions(s, WebSession.user_id == user.id)
        shown["token_list"] = [_token_view(t, user.username) for t in
                               s.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))]
        return shown


def add_user(db: Database, actor: Actor, username: str, role: str, *, with_password: bool) -> tuple[dict, str | None]:
    """A new user of the administrator's team, and their first password (shown once), or None
    for a user who signs in only with single sign-on."""
    _admin(db, actor, "user.create")
    password = new_password() if with_password else None
    made = create_user(db, username, password, role=role, team=actor.team)
    with db.session() as s:
        _audit(s, db, actor, "user.add", f"user:{made.user_id}", f"role {role}" + ("" if with_password else ", SSO only"))
    return get_user(db, actor, made.user_id), password


def _others_admins(s, user: User) -> int:
    return s.scalar(select(func.count()).select_from(User).where(
        User.team_id == user.team_id, User.role == "admin", User.active.is_(True), User.id != user.id)) or 0


def _keeps_an_admin(s, user: User, what: str) -> None:
    if user.role == "admin" and user.active and not _others_admins(s, user):
        raise Conflict(f"{user.username} is the team's only active administrator: make another administrator "
                       f"before you {what}.", "last_admin")


def set_role(db: Database, actor: Actor, user_id: int, role: str) -> dict:
    _admin(db, actor, "user.role", f"user:{user_id}")
    if role not in ROLES:
        raise RecordInvalid(f"The role must be one of {', '.join(ROLES)}.")
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, "user.role")
        if role != user.role:
            if role != "admin":
                _keeps_an_admin(s, user, "change this role")
            _audit(s, db, actor, "user.role", f"user:{user.id}", f"{user.role} to {role}")
            user.role = role
    return get_user(db, actor, user_id)


def move_user(db: Database, actor: Actor, user_id: int, team: str) -> dict:
    """Move a user of the team to another team (made if new); they leave this administrator's
    reach. Their sessions end, since what they may see changes."""
    _admin(db, actor, "user.team", f"user:{user_id}")
    team_id = create_team(db, team)
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, "user.team")
        if team_id == user.team_id:
            raise RecordInvalid(f"{user.username} is in that team already.")
        _keeps_an_admin(s, user, "move them")
        _audit(s, db, actor, "user.team", f"user:{user.id}", f"to team:{team_id}")
        user.team_id = team_id
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))
        return {"id": user.id, "username": user.username, "team": s.get(Team, team_id).name}


def set_active(db: Database, actor: Actor, user_id: int, active: bool) -> dict:
    """Deactivate (their sessions end; their tokens stop working) or reactivate a user."""
    action = "user.activate" if active else "user.deactivate"
    _admin(db, actor, action, f"user:{user_id}")
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, action)
        if not active:
            if user.id == actor.user_id:
                raise Conflict("You cannot deactivate yourself; ask another administrator.", "self_deactivate")
            _keeps_an_admin(s, user, "deactivate them")
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))
        if user.active != active:
            _audit(s, db, actor, action, f"user:{user.id}")
            user.active = active
    return get_user(db, actor, user_id)


def reset_password(db: Database, actor: Actor, user_id: int) -> tuple[dict, str]:
    """A new random password for a user of the team (shown once); their sessions end and any
    lock on the account is lifted."""
    _admin(db, actor, "user.password_reset", f"user:{user_id}")
    if not db.settings.local_passwords:
        raise Conflict("Passwords are switched off on this service: people sign in with their organisation's "
                       "account.", "passwords_off")
    password = new_password()
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, "user.password_reset")
        user.password_hash, user.unlocked_at = hash_password(password), _now()
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))
        _audit(s, db, actor, "user.password_reset", f"user:{user.id}")
    return get_user(db, actor, user_id), password


def unlock_user(db: Database, actor: Actor, user_id: int) -> dict:
    """Forgive the wrong passwords that locked the account, so its owner can try again now."""
    _admin(db, actor, "user.unlock", f"user:{user_id}")
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, "user.unlock")
        user.unlocked_at = _now()
        _audit(s, db, actor, "user.unlock", f"user:{user.id}")
    return get_user(db, actor, user_id)


def list_teams(db: Database, actor: Actor) -> list[dict]:
    """Every team's name and how many active users it has (nothing of their work)."""
    _admin(db, actor, "team.list")
    with db.session() as s:
        counts = dict(s.execute(select(User.team_id, func.count()).where(User.active.is_(True))
                                .group_by(User.team_id)).all())
        return [{"id": t.id, "name": t.name, "users": counts.get(t.id, 0), "yours": t.id == actor.team_id}
                for t in s.scalars(select(Team).order_by(Team.name))]


def add_team(db: Database, actor: Actor, name: str) -> dict:
    _admin(db, actor, "team.create")
    with db.session() as s:
        clean = " ".join(name.split())
        if s.scalar(select(Team).where(func.lower(Team.name) == clean.lower())) is not None:
            raise Conflict(f"There is already a team called {clean}.", "team_exists")
    team_id = create_team(db, name)
    with db.session() as s:
        _audit(s, db, actor, "team.add", f"team:{team_id}")
    return next(t for t in list_teams(db, actor) if t["id"] == team_id)


def token_for(db: Database, actor: Actor, user_id: int, name: str, days: int | None) -> str:
    """A token for a user of the team (an integration's account, say), shown once."""
    _admin(db, actor, "token.create", f"user:{user_id}")
    with db.session() as s:
        user = _team_user(s, db, actor, user_id, "token.create")
        owner = Actor(user.id, user.username, user.role, user.team_id, actor.team)
        if not user.active:
            raise Conflict(f"{user.username} is not active: reactivate them first.", "user_inactive")
    token = create_token(db, owner, name, days=days)
    with db.session() as s:
        _audit(s, db, actor, "token.create_for", f"user:{user_id}")
    return token


# -- sessions ---------------------------------------------------------------------------------

def _sessions(s, where) -> list[dict]:
    rows = s.execute(select(WebSession, User.username).join(User, User.id == WebSession.user_id)
                     .where(where, WebSession.expires_at > _now())
                     .order_by(WebSession.created_at.desc(), WebSession.expires_at.desc())).all()
    return [{"id": w.id, "username": name, "created_at": w.created_at, "expires_at": w.expires_at,
             "via": {"sso": "single sign-on", "password": "password"}.get(w.via or "", "not recorded")}
            for w, name in rows]


def list_sessions(db: Database, actor: Actor, *, team: bool = False) -> list[dict]:
    """Live sessions: the actor's own, or (``team``, an administrator) everyone's in the team."""
    if team:
        _admin(db, actor, "session.list")
    with db.session() as s:
        return _sessions(s, User.team_id == actor.team_id if team else WebSession.user_id == actor.user_id)


def end_user_session(db: Database, actor: Actor, session: str) -> None:
    """End a session: one's own, or (an administrator) any in the team. Another's answers as not
    found, audited."""
    with db.session() as s:
        row = s.get(WebSession, session[:64]) if session else None
        owner = s.get(User, row.user_id) if row is not None else None
        allowed = owner is not None and (owner.id == actor.user_id or
                                         (actor.at_least("admin") and owner.team_id == actor.team_id))
        if not allowed:
            s.rollback()
            with db.session() as log:
                record(log, db.sealer, user_id=actor.user_id, username=actor.username, action="session.end",
                       target="session", outcome="denied")
            raise NotFound("There is no such session, or it is not yours to end.")
        s.delete(row)
        _audit(s, db, actor, "session.end", f"user:{owner.id}")


# -- one's own password -----------------------------------------------------------------------

def change_password(db: Database, actor: Actor, current: str, new: str, *, keep: str | None = None) -> None:
    """Change one's own password; every other session ends (``keep``: the session to keep)."""
    if not db.settings.local_passwords:
        raise Conflict("Passwords are switched off on this service.", "passwords_off")
    if len(new) < MIN_PASSWORD:
        raise RecordInvalid(f"The new password is at least {MIN_PASSWORD} characters.")
    with db.session() as s:
        user = s.get(User, actor.user_id)
        if user.password_hash == NO_PASSWORD:
            raise Conflict("You sign in with your organisation's account, so there is no password to change here.",
                           "sso_only")
        if not check_password(current, user.password_hash):
            s.rollback()
            with db.session() as log:
                record(log, db.sealer, user_id=actor.user_id, username=actor.username, action="password.change",
                       outcome="denied")
            raise AccessError("Your current password is not right.", "wrong_password")
        if check_password(new, user.password_hash):
            raise RecordInvalid("The new password is the same as the current one.")
        user.password_hash = hash_password(new)
        s.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.id != (keep or "")))
        _audit(s, db, actor, "password.change", f"user:{user.id}")
