"""Casework: accounts and access, cases, submissions and the register export. Each function is
one unit of work on the database with its audit entry; the HTTP layer and the CLI call these and
nothing below them. Every function that touches child data takes the acting user (``Actor``)
and sees only that user's team."""

from .accounts import (
    Actor, ROLES, actor_for, authenticate, create_team, create_token, create_user, end_session, list_tokens, resolve_session,
    resolve_token, resolve_token_in_place, revoke_token, start_session, user_count,
)
from .audit import Checkpointer, check_audit, publish_checkpoint
from .cases import case_history, create_case, get_case, get_case_async, list_cases, prefill_for_case, update_case
from .export import register_xlsx
from .submissions import (
    accept_submission, discard_submission, get_submission, list_submissions, receive_submission, receive_submission_async,
)

__all__ = [
    "Actor", "Checkpointer", "ROLES", "check_audit", "publish_checkpoint", "accept_submission", "discard_submission", "actor_for", "authenticate", "case_history", "create_case", "create_team",
    "create_token", "create_user", "end_session", "get_case", "get_case_async", "list_tokens", "revoke_token", "get_submission", "list_cases", "list_submissions",
    "prefill_for_case", "receive_submission", "receive_submission_async", "register_xlsx", "resolve_session", "resolve_token", "resolve_token_in_place", "start_session",
    "update_case", "user_count",
]
