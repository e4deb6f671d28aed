"""The service's settings, from environment variables, with embedded defaults that need nothing
installed: a SQLite file under ``./var`` and jobs run in the process.

    DATABASE_URL                 sqlite:///var/stepdown.sqlite3 (default) or postgresql+psycopg://...
    STEPDOWN_DATA_KEY            a Fernet key: stored form data and case values are encrypted at
                                 rest with it (``stepdown-forms new-key`` makes one); unset: not
    STEPDOWN_MAX_UPLOAD_MB       upload size limit, enforced before the body is read (20, the most)
    STEPDOWN_PARSE_CONCURRENCY   uploads parsed at once; more get 429 (2)
    STEPDOWN_SESSION_HOURS       how long a web login lasts (8)
    STEPDOWN_SECURE_COOKIES      1 behind HTTPS, so cookies are only sent over it (0)
    STEPDOWN_DATA_DIR            where the audit chain's checkpoints are published (var; one
                                 database per folder), and the file store unless it is set apart
    STEPDOWN_FILES_DIR           the file store: batch parts and finished ZIPs, a directory every
                                 web process and worker reaches (STEPDOWN_DATA_DIR)
    STEPDOWN_BROKER_URL          redis://host:port/db: batches run as Celery tasks on
                                 ``stepdown-forms worker`` processes; unset: in the web process
    STEPDOWN_JOB_WORKERS         processes building batch parts in each web process, when no broker
                                 is set (the number of cores)
    STEPDOWN_JOB_HOURS           how long a finished batch ZIP is kept (24)
    STEPDOWN_PART_SIZE           most meetings in one batch part (10)
    STEPDOWN_PART_TIMEOUT        seconds without news from a part's worker before it is run again
                                 elsewhere (120)
    STEPDOWN_PART_ATTEMPTS       runs of a part before its batch fails (3)
    STEPDOWN_WEB_PROCESSES       server processes answering requests (the number of cores); each
                                 has its own upload parsers and batch runner
    STEPDOWN_PUBLIC_URL          the address staff use (https://forms.example.gov.uk), for the
                                 sign-in return address; unset: the address each request came to

Single sign-on (OpenID Connect; see docs/web.md), on when an issuer is set:

    STEPDOWN_OIDC_ISSUER         the provider's issuer (Entra ID:
                                 https://login.microsoftonline.com/<tenant id>/v2.0)
    STEPDOWN_OIDC_CLIENT_ID      this service's client (application) id at the provider
    STEPDOWN_OIDC_CLIENT_SECRET  its secret (unset for a public client: PKCE alone)
    STEPDOWN_OIDC_NAME           what the sign-in button says ("Sign in with <name>"; "your organisation")
    STEPDOWN_OIDC_SCOPES         openid email profile
    STEPDOWN_OIDC_USER_CLAIM     the claim matched to usernames, without case (email; Entra ID:
                                 preferred_username)
    STEPDOWN_OIDC_GROUPS_CLAIM   the claim listing the person's groups (groups)
    STEPDOWN_OIDC_GROUPS         group -> team and role, "<group>=<team>:<role>; ...": a person in a
                                 mapped group gets that team and role (the highest of theirs) and
                                 a user on first sign-in; unset: only users an admin added sign in
    STEPDOWN_LOCAL_PASSWORDS     0 switches password log-in off (single sign-on only); 1 (default)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SettingsError
from .limits import MAX_UPLOAD_BYTES, MIB


def _int(env: dict, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


def _local_passwords(env: dict) -> bool:
    on = env.get("STEPDOWN_LOCAL_PASSWORDS", "1") not in ("0", "false", "no", "off")
    if not on and not env.get("STEPDOWN_OIDC_ISSUER"):
        raise SettingsError("STEPDOWN_LOCAL_PASSWORDS=0 needs single sign-on (STEPDOWN_OIDC_ISSUER): "
                            "otherwise nobody could log in")
    return on


def _broker(url: str | None) -> str | None:
    if url is not None and not url.startswith(("redis://", "rediss://", "redis+socket://")):
        raise SettingsError("STEPDOWN_BROKER_URL must be a Redis address (redis://host:port/0 or rediss://...)")
    return url


ROLES = ("practitioner", "manager", "admin")


@dataclass(frozen=True)
class SsoSettings:
    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    name: str = "your organisation"
    scopes: str = "openid email profile"
    user_claim: str = "email"
    groups_claim: str = "groups"
    groups: dict[str, tuple[str, str]] = field(default_factory=dict)  # group -> (team, role)

    @classmethod
    def from_env(cls, env: dict) -> "SsoSettings | None":
        issuer = (env.get("STEPDOWN_OIDC_ISSUER") or "").strip()
        if not issuer:
            return None
        if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise SettingsError("STEPDOWN_OIDC_ISSUER must be an https:// address")
        client_id = (env.get("STEPDOWN_OIDC_CLIENT_ID") or "").strip()
        if not client_id:
            raise SettingsError("STEPDOWN_OIDC_CLIENT_ID is needed with STEPDOWN_OIDC_ISSUER")
        return cls(issuer=issuer, client_id=client_id, client_secret=env.get("STEPDOWN_OIDC_CLIENT_SECRET") or None,
                   name=env.get("STEPDOWN_OIDC_NAME") or cls.name, scopes=env.get("STEPDOWN_OIDC_SCOPES") or cls.scopes,
                   user_claim=env.get("STEPDOWN_OIDC_USER_CLAIM") or cls.user_claim,
                   groups_claim=env.get("STEPDOWN_OIDC_GROUPS_CLAIM") or cls.groups_claim,
                   groups=_group_map(env.get("STEPDOWN_OIDC_GROUPS") or ""))


def _group_map(raw: str) -> dict[str, tuple[str, str]]:
    """``"<group>=<team>:<role>; ..."`` read strictly: a mistyped map refuses to start."""
    mapping = {}
    for item in filter(None, (part.strip() for part in raw.split(";"))):
        group, _, rest = item.partition("=")
        team, _, role = rest.rpartition(":")
        if not group.strip() or not team.strip() or role.strip() not in ROLES:
            raise SettingsError(f"STEPDOWN_OIDC_GROUPS: {item!r} is not <group>=<team>:<role> "
                                f"(role one of {', '.join(ROLES)})")
        mapping[group.strip()] = (" ".join(team.split()), role.strip())
    return mapping


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/stepdown.sqlite3"
    data_key: str | None = field(default=None, repr=False)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    parse_concurrency: int = 2
    session_hours: int = 8
    secure_cookies: bool = False
    data_dir: str = "var"
    job_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    job_hours: int = 24
    web_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    files_dir: str | None = None
    broker_url: str | None = None
    part_size: int = 10
    part_timeout: int = 120
    part_attempts: int = 3
    public_url: str | None = None
    sso: SsoSettings | None = None
    local_passwords: bool = True

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or cls.database_url,
            data_key=env.get("STEPDOWN_DATA_KEY") or None,
            max_upload_bytes=_int(env, "STEPDOWN_MAX_UPLOAD_MB", MAX_UPLOAD_BYTES // MIB, 1, MAX_UPLOAD_BYTES // MIB) * MIB,
            parse_concurrency=_int(env, "STEPDOWN_PARSE_CONCURRENCY", 2, 1, 64),
            session_hours=_int(env, "STEPDOWN_SESSION_HOURS", 8, 1, 24 * 14),
            secure_cookies=env.get("STEPDOWN_SECURE_COOKIES", "0") in ("1", "true", "yes"),
            data_dir=env.get("STEPDOWN_DATA_DIR") or "var",
            job_workers=_int(env, "STEPDOWN_JOB_WORKERS", os.cpu_count() or 1, 0, 64),
            job_hours=_int(env, "STEPDOWN_JOB_HOURS", 24, 1, 24 * 30),
            web_processes=_int(env, "STEPDOWN_WEB_PROCESSES", os.cpu_count() or 1, 1, 64),
            files_dir=env.get("STEPDOWN_FILES_DIR") or None,
            broker_url=_broker(env.get("STEPDOWN_BROKER_URL") or None),
            part_size=_int(env, "STEPDOWN_PART_SIZE", 10, 1, 1000),
            part_timeout=_int(env, "STEPDOWN_PART_TIMEOUT", 120, 2, 24 * 3600),
            part_attempts=_int(env, "STEPDOWN_PART_ATTEMPTS", 3, 1, 20),
            public_url=(env.get("STEPDOWN_PUBLIC_URL") or "").rstrip("/") or None,
            sso=SsoSettings.from_env(env),
            local_passwords=_local_passwords(env),
        )

    @property
    def file_store(self) -> Path:
        return Path(self.files_dir or self.data_dir)

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != "sqlite:///:memory:":
            return Path(self.database_url[len(prefix):])
        return None
