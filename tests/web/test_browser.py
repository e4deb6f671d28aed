"""The journey a new user makes, in a real browser (Playwright driving Debian's Chromium) against
the real service (uvicorn on a local port), on SQLite and on PostgreSQL: log in, create a case,
download a prefilled Word form, complete it as Word would, upload it, see the values and a
conflict, accept them, and find the case updated with its history."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

import service
from service import records
from service.settings import Settings
from service.web import create_app
from tests.conftest import REGISTRY
from tests.docx.edits import WordEdit
from tests.web.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = "Chromium is not installed (apt-get install chromium); scripts/test installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def server(database_url):
    import uvicorn

    app = create_app(Settings(database_url=database_url), registry=REGISTRY)
    records.create_user(app.state.db, "bea.browser", PASSWORD, role="practitioner", team="Browser Team")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(10)
    app.state.db.dispose()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def test_new_user_journey(server, page, tmp_path):
    base, app = server
    page.goto(f"{base}/cases")
    assert page.url.endswith("/login")
    page.get_by_label("Username").fill("bea.browser")
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Log in").click()
    assert "not right" in page.locator(".error-summary").inner_text()
    page.get_by_label("Username").fill("bea.browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Forms"

    # a case, entered once
    page.get_by_role("link", name="Cases").click()
    page.get_by_label("SU number (required)").fill("SU-EX-4001")
    page.get_by_label("Child's name").fill("Elis Example")
    page.get_by_label("Social worker", exact=True).fill("Jo Sample")
    page.get_by_role("button", name="Add the case").click()
    page.wait_for_url(f"{base}/cases/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Elis Example"

    # a prefilled Word form, downloaded
    page.get_by_role("link", name="Reducing Anxiety Management Plan (RAMP)").click()
    assert page.get_by_label("Prefill from a case").input_value() != ""
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the form").click()
    download = info.value
    assert download.suggested_filename == "ramp.docx"
    raw = Path(download.path()).read_bytes()
    assert service.extract_document(raw, REGISTRY).data["child_name"] == "Elis Example"

    # completed as in Word, with a different worker's name
    completed = (WordEdit(raw).type_text("anxiety_states.calm.presentation", "Quiet and settled, reading.")
                 .type_text("completed_by", "Alex Newworker").save())
    path = tmp_path / "ramp-completed.docx"
    path.write_bytes(completed)

    page.get_by_role("link", name="Upload a completed form").click()
    page.get_by_label("Completed form").set_input_files(str(path))
    page.get_by_role("button", name="Upload and read").click()
    page.wait_for_url(f"{base}/submissions/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Reducing Anxiety Management Plan (RAMP)"
    assert "Quiet and settled, reading." in page.locator("main").inner_text()
    conflict = page.locator("tr.conflict")
    assert "Jo Sample" in conflict.inner_text() and "Alex Newworker" in conflict.inner_text()

    # accepting without settling the conflict is refused; choosing the form's value works
    page.get_by_role("button", name="Accept these values").click()
    assert "differ from the case" in page.locator(".error-summary").first.inner_text()
    page.get_by_label("Use the form's").check()
    page.get_by_role("button", name="Accept these values").click()
    page.wait_for_url("**accepted=1")
    assert page.locator("#status").inner_text().lower() == "accepted"

    page.get_by_role("link", name="the case").click()
    assert page.get_by_label("Social worker", exact=True).input_value() == "Alex Newworker"
    history = page.locator("table").last.inner_text()
    assert "Jo Sample" in history and "Alex Newworker" in history and "a form" in history

    page.get_by_role("link", name="Submissions").click()
    assert "accepted" in page.locator("table").inner_text().lower()
