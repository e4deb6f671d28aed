"""A running app per test, on SQLite and (when the test command has started one) PostgreSQL,
with two teams: North (a manager, a practitioner) and South (a practitioner)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

import pytest
from fastapi.testclient import TestClient

from service import records
from service.settings import Settings, SsoSettings
from service.web import create_app
from tests.conftest import REGISTRY

PASSWORD = "a long test password"
@dataclass
class World:
    app: object
    client: TestClient
    tokens: dict[str, str]
    actors: dict[str, records.Actor]

    @property
    def db(self):
        return self.app.state.db

    def auth(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, url: str, headers: dict | None = None, **kw):
        return self.client.get(url, headers={**self.auth(who), **(headers or {})}, **kw)

    def post(self, who: str, url: str, headers: dict | None = None, **kw):
        return self.client.post(url, headers={**self.auth(who), **(headers or {})}, **kw)


def make_world(url: str, **settings) -> World:
    import tempfile

    settings.setdefault("data_dir", tempfile.mkdtemp(prefix="sdf-data-"))
    settings.setdefault("job_workers", 0)
    app = create_app(Settings(database_url=url, **settings), registry=REGISTRY)
    db = app.state.db
    actors = {
        "manager": records.create_user(db, "nia.manager", PASSWORD, role="manager", team="North Team"),
        "worker": records.create_user(db, "sam.worker", PASSWORD, role="practitioner", team="North Team"),
        "south": records.create_user(db, "ola.south", PASSWORD, role="practitioner", team="South Team"),
        "admin": records.create_user(db, "ade.admin", PASSWORD, role="admin", team="North Team"),
    }
    tokens = {who: records.create_token(db, actor, "tests") for who, actor in actors.items()}
    return World(app, TestClient(app), tokens, actors)


@pytest.fixture
def world(database_url):
    w = make_world(database_url)
    with w.client:
        yield w
    w.app.state.jobs.stop()
    w.db.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def issuer():
    """A real OpenID Connect provider process (oidc-provider-mock) on ``localhost``: another site
    than the service's ``127.0.0.1``, as a council's provider is."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce", "true"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/.well-known/openid-configuration", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the OpenID provider did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
    proc.stderr.close()


def sso_settings(issuer: str, **extra) -> SsoSettings:
    return SsoSettings(issuer=issuer, client_id="step-down-forms", client_secret="a test secret", name="Test Council",
                       **extra)


def provider_knows(issuer: str, sub: str, **claims) -> None:
    """Tell the provider who ``sub`` is (the claims its ID token will carry)."""
    answer = httpx.put(f"{issuer}/users/{sub}", json=claims, timeout=10)
    assert answer.status_code == 204
