"""The service's commands: create-user (password generated and shown once, or from stdin),
create-token, tokens, revoke-token, new-key, verify-audit; and the first-run message."""

from __future__ import annotations

import io
import sys

import pytest
from cryptography.fernet import Fernet

from service.cli import main
from service.cli.operations import FIRST_RUN
from service.errors import AccessError
from service.records import authenticate, resolve_token
from service.settings import Settings
from service.store import Database


def test_user_token_and_audit_commands(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STEPDOWN_DATA_DIR", str(tmp_path))  # where the audit checkpoints of this database go
    assert main(["create-user", "Ana.Admin", "--role", "admin", "--team", "Demo Team"]) == 0
    out = capsys.readouterr().out
    password = out.split("Password (shown once; ask them to keep it safe): ")[1].strip()
    db = Database(Settings(database_url=url))
    assert authenticate(db, "ana.admin", password).role == "admin"

    monkeypatch.setattr(sys, "stdin", io.StringIO("a chosen long password\n"))
    assert main(["create-user", "bo.worker", "--team", "Demo Team", "--password-stdin"]) == 0
    assert "Password" not in capsys.readouterr().out
    assert authenticate(db, "bo.worker", "a chosen long password").role == "practitioner"

    assert main(["create-user", "bo.worker", "--team", "Demo Team"]) == 2
    assert "already a user" in capsys.readouterr().err
    assert main(["create-user", "x", "--team", "T"]) == 2

    assert main(["create-token", "bo.worker", "--name", "nightly"]) == 0
    token = capsys.readouterr().out.strip()
    assert resolve_token(db, token).username == "bo.worker"
    assert main(["create-token", "nobody"]) == 2
    assert main(["create-token", "bo.worker", "--name", "forever", "--no-expiry"]) == 0
    capsys.readouterr()
    assert main(["tokens", "bo.worker"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and "active" in listed[0] and "nightly" in listed[0] and "never" in listed[1]
    first = int(listed[0].split()[0])
    assert main(["revoke-token", "bo.worker", str(first)]) == 0
    capsys.readouterr()
    with pytest.raises(AccessError):
        resolve_token(db, token)
    assert main(["revoke-token", "ana.admin", "99999"]) == 2  # no such token
    assert "no such token" in capsys.readouterr().err

    assert main(["verify-audit"]) == 0
    assert "intact" in capsys.readouterr().out
    db.dispose()


def test_new_key_makes_a_usable_key(capsys):
    assert main(["new-key"]) == 0
    Fernet(capsys.readouterr().out.strip().encode())  # raises if it is not a key


def test_first_run_message_says_how_to_log_in():
    text = FIRST_RUN.format(url="http://127.0.0.1:8000")
    assert "create-user" in text and "--role admin" in text and "http://127.0.0.1:8000/login" in text


def test_serve_starts_the_service_and_says_how_to_log_in(tmp_path):
    """The README's run command ends in `stepdown-forms serve`: it answers on its port and, with
    no users yet, tells the user how to create the first administrator."""
    import json
    import os
    import socket
    import subprocess
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3", "STEPDOWN_DATA_DIR": str(tmp_path)}
    exe = Path(sys.executable).with_name("stepdown-forms")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        deadline, body = time.monotonic() + 30, None
        while body is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.2)
        assert body is not None and body["status"] == "ok" and set(body["checks"].values()) == {"ok"}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "create-user" in err and "--role admin" in err and f"http://127.0.0.1:{port}/login" in err
