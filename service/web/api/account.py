"""Who am I, API tokens, and the audit log's tamper check (admins)."""

from __future__ import annotations

from fastapi import APIRouter

from ...records import check_audit, create_token, list_tokens, revoke_token
from ..deps import ApiUser, Db
from .schemas import ERRORS, AuditCheckOut, Me, TokenInfo, TokenOut, TokenRequest

router = APIRouter(tags=["account"], responses=ERRORS)


@router.get("/me", response_model=Me)
def me(user: ApiUser) -> dict:
    return {"username": user.username, "role": user.role, "team": user.team}


@router.post("/tokens", response_model=TokenOut, status_code=201)
def new_token(body: TokenRequest, user: ApiUser, db: Db) -> dict:
    return {"token": create_token(db, user, body.name, days=body.days)}


@router.get("/tokens", response_model=list[TokenInfo])
def tokens(user: ApiUser, db: Db) -> list[dict]:
    """Your tokens (an admin: the team's), never the tokens themselves."""
    return list_tokens(db, user)


@router.post("/tokens/{token_id}/revoke", response_model=TokenInfo)
def revoke(token_id: int, user: ApiUser, db: Db) -> dict:
    """Revoke a token at once: yours, or (an admin) any of your team's."""
    return revoke_token(db, user, token_id)


@router.get("/audit/verify", response_model=AuditCheckOut)
def audit_verify(user: ApiUser, db: Db) -> dict:
    check = check_audit(db, user)
    return {"ok": check.ok, "entries": check.entries, "first_bad": check.first_bad, "problem": check.problem}
