"""Single sign-on: staff sign in with their organisation's OpenID Connect provider (Microsoft
Entra ID, or any standard one), by the authorization code flow with PKCE.

The steps, none of which keeps state in a web process (any process may answer any step):

1. ``begin_sign_in``: a random ``state``, ``nonce`` and PKCE verifier are stored in the
   database (``sign_ins``, single use, 10 minutes) and the browser is sent to the provider;
   the browser also gets ``state`` in a cookie, so the answer must come back to the same browser.
2. ``finish_sign_in``: the provider sends the browser back with a code; the sign-in is taken
   from the table (deleted as it is read: a code or state replayed finds nothing), the code is
   exchanged for tokens with the verifier, and the ID token is checked with the provider's
   published keys: signature, issuer, audience, expiry and nonce (joserfc, Authlib's own JOSE).
3. The person is a user here when the configured claim (``email`` by default; for Entra ID
   often ``preferred_username``) matches a username, compared without case. With a group map
   (``STEPDOWN_OIDC_GROUPS``) the groups claim decides the team and role instead, and a user
   is made on first sign-in; a person neither pre-provisioned nor in a mapped group is refused.

Every step that decides something is audited; a claim's value is never logged unless it is a
user's username (what the audit log already records for users).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, func, select

from ..errors import SettingsError, SignInRefused
from ..settings import SsoSettings
from ..store import Database, record
from ..store.models import SignIn, User
from .accounts import NO_PASSWORD, ROLES, Actor, _actor, create_team

STATE_MINUTES = 10
DISCOVERY_SECONDS = 3600  # the provider's configuration and keys are fetched again after this
TIMEOUT = httpx.Timeout(10.0)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Provider:
    config: dict
    keys: KeySet
    fetched: float


class Provider:
    """An OpenID Connect provider, its configuration read from ``{issuer}/.well-known/
    openid-configuration`` and kept for an hour (and its keys fetched again when a token names
    a key it does not know: providers rotate them)."""

    def __init__(self, settings: SsoSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._client = httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False)
        self._cached: _Provider | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _get(self, url: str) -> dict:
        try:
            answer = self._client.get(url)
            answer.raise_for_status()
            return answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInRefused("The sign-in service could not be reached; try again in a minute, or tell your "
                                "administrator.", "sign_in_unavailable") from exc

    def _load(self, force: bool = False) -> _Provider:
        with self._lock:
            if force or self._cached is None or time.monotonic() - self._cached.fetched > DISCOVERY_SECONDS:
                issuer = self.settings.issuer.rstrip("/")
                config = self._get(f"{issuer}/.well-known/openid-configuration")
                if config.get("issuer", "").rstrip("/") != issuer:
                    raise SettingsError("The provider's configuration names another issuer than "
                                        "STEPDOWN_OIDC_ISSUER: check the setting.")
                self._cached = _Provider(config, KeySet.import_key_set(self._get(config["jwks_uri"])), time.monotonic())
            return self._cached

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        endpoint = self._load().config["authorization_endpoint"]
        query = {"response_type": "code", "client_id": self.settings.client_id, "redirect_uri": redirect_uri,
                 "scope": self.settings.scopes, "state": state, "nonce": nonce,
                 "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    def claims(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict:
        """Exchange the code and return the ID token's claims, once every check has passed."""
        provider = self._load()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier, "client_id": self.settings.client_id}
        auth = (self.settings.client_id, self.settings.client_secret) if self.settings.client_secret else None
        try:
            answer = self._client.post(provider.config["token_endpoint"], data=form, auth=auth)
            tokens = answer.json() if answer.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInRefused("The sign-in service could not be reached; try again.", "sign_in_unavailable") from exc
        if not isinstance(tokens.get("id_token"), str):
            raise SignInRefused("The sign-in service did not confirm who you are; please sign in again.")
        return self._verified(tokens["id_token"], nonce)

    def _verified(self, id_token: str, nonce: str) -> dict:
        algorithms = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
        try:
            try:
                token = jwt.decode(id_token, self._load().keys, algorithms=algorithms)
            except (JoseError, ValueError):  # perhaps a key the provider has just rotated in
                token = jwt.decode(id_token, self._load(force=True).keys, algorithms=algorithms)
            jwt.JWTClaimsRegistry(
                leeway=60, iss={"essential": True, "value": self._load().config["issuer"]},
                aud={"essential": True, "value": self.settings.client_id}, exp={"essential": True},
                sub={"essential": True}, nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SignInRefused("The sign-in could not be confirmed (the provider's answer did not check out); "
                                "please sign in again.") from exc
        return dict(token.claims)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another site's address)."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")) or len(path) > 300:
        return "/"
    return path


def begin_sign_in(db: Database, provider: Provider, redirect_uri: str, next_path: str | None) -> tuple[str, str]:
    """(the provider's address to send the browser to, the state for the browser's cookie)."""
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    url = provider.authorization_url(redirect_uri, state, nonce, verifier)
    with db.session() as s:
        s.execute(delete(SignIn).where(SignIn.created_at < _now() - timedelta(minutes=STATE_MINUTES)))
        s.add(SignIn(state=state, nonce=nonce, verifier=verifier, next_path=safe_next(next_path), created_at=_now()))
    return url, state


def finish_sign_in(db: Database, provider: Provider, redirect_uri: str, *, state: str, cookie_state: str,
                   code: str | None, error: str | None) -> tuple[Actor, str]:
    """The user signed in, and the path they first asked for; or SignInRefused (audited)."""
    with db.session() as s:
        pending = s.get(SignIn, state) if state and len(state) <= 64 else None
        if pending is not None:
            s.delete(pending)
    try:
        if pending is None or not secrets.compare_digest(state, cookie_state or ""):
            raise SignInRefused("This sign-in was not started here, or was already used; please sign in again.")
        if pending.created_at < _now() - timedelta(minutes=STATE_MINUTES):
            raise SignInRefused("The sign-in took too long; please sign in again.")
        if error or not code:
            raise SignInRefused("The sign-in service did not sign you in; please try again.")
        claims = provider.claims(code, redirect_uri, pending.verifier, pending.nonce)
    except SignInRefused as exc:
        with db.session() as s:
            record(s, db.sealer, user_id=None, username="(sso)", action="login.sso", outcome="refused",
                   detail=exc.code)
        raise
    return _user_for(db, provider.settings, claims), pending.next_path


def _claimed_groups(settings: SsoSettings, claims: dict) -> list[str]:
    groups = claims.get(settings.groups_claim) or []
    return [str(g) for g in groups] if isinstance(groups, list) else [str(groups)]


def _mapped(settings: SsoSettings, claims: dict) -> tuple[str, str] | None:
    """(team, role) from the group map: of the groups the person is in, the one with the highest role."""
    found = [settings.groups[g] for g in _claimed_groups(settings, claims) if g in settings.groups]
    return max(found, key=lambda tr: ROLES.index(tr[1])) if found else None


def _user_for(db: Database, settings: SsoSettings, claims: dict) -> Actor:
    name = str(claims.get(settings.user_claim) or "").strip().lower()
    mapped = _mapped(settings, claims) if settings.groups else None
    team_id = create_team(db, mapped[0]) if mapped else None
    with db.session() as s:
        user = s.scalar(select(User).where(func.lower(User.username) == name)) if name else None
        if user is None and mapped and 3 <= len(name) <= 80:
            user = User(username=name, password_hash=NO_PASSWORD, role=mapped[1], team_id=team_id, active=True,
                        created_at=_now())
            s.add(user)
            s.flush()
            record(s, db.sealer, user_id=None, username="(sso)", action="user.create", target=f"user:{user.id}",
                   detail=f"from groups: role {mapped[1]}")
        elif user is not None and mapped and (user.role, user.team_id) != (mapped[1], team_id):
            user.role, user.team_id = mapped[1], team_id
            record(s, db.sealer, user_id=user.id, username=user.username, action="user.update",
                   target=f"user:{user.id}", detail=f"from groups: role {mapped[1]}")
        if user is None or not user.active:
            who = hashlib.sha256(name.encode()).hexdigest()[:12] if name else "no claim"
            record(s, db.sealer, user_id=user.id if user else None, username=user.username if user else "(sso)",
                   action="login.sso", target=f"claim:{who}", outcome="denied",
                   detail="inactive" if user else "no user or mapped group")
        else:
            record(s, db.sealer, user_id=user.id, username=user.username, action="login.sso")
            return _actor(s, user)
    raise SignInRefused(  # raised after the block, so the refusal's audit entry is committed
        "You signed in with your organisation, but you do not have access to Step Down Forms yet: "
        "ask your administrator to add you.", "sign_in_no_access")
