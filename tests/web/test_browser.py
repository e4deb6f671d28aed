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
from tests.web.conftest import PASSWORD, provider_knows, sso_settings

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = "Chromium is not installed (apt-get install chromium); scripts/test installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def server(database_url, tmp_path):
    app = create_app(Settings(database_url=database_url, data_dir=str(tmp_path / "data"), job_workers=2),
                     registry=REGISTRY)
    records.create_user(app.state.db, "bea.browser", PASSWORD, role="practitioner", team="Browser Team")
    yield from _serve(app)


def _serve(app):
    import uvicorn

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
    app.state.jobs.stop()
    app.state.db.dispose()


_AXE = None


def accessible(page) -> None:
    """axe-core (the copy axe-playwright-python bundles) finds nothing on the page as it is now."""
    global _AXE
    from axe_playwright_python.sync_playwright import Axe

    _AXE = _AXE or Axe()
    results = _AXE.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


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
    assert page.url.endswith("/login?next=%2Fcases")  # and back to the cases once logged in
    accessible(page)
    page.get_by_label("Username").fill("bea.browser")
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Log in").click()
    assert "not right" in page.locator(".error-summary").inner_text()
    accessible(page)
    page.get_by_label("Username").fill("bea.browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/cases")
    accessible(page)

    # a case, entered once
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("SU number (required)").fill("SU-EX-4001")
    page.get_by_label("Child's name").fill("Elis Example")
    page.get_by_label("Social worker", exact=True).fill("Jo Sample")
    page.get_by_role("button", name="Add the case").click()
    page.wait_for_url(f"{base}/cases/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Elis Example"
    accessible(page)

    # a prefilled Word form, downloaded
    page.get_by_role("link", name="Reducing Anxiety Management Plan (RAMP)").click()
    assert page.get_by_label("Prefill from a case").input_value() != ""
    accessible(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the form").click()
    download = info.value
    assert download.suggested_filename == "ramp-SU-EX-4001.docx"  # the form and the SU number, never a name
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
    accessible(page)

    # accepting without settling the conflict is refused; choosing the form's value works
    page.get_by_role("button", name="Accept these values").click()
    assert "differ from the case" in page.locator(".error-summary").first.inner_text()
    accessible(page)
    page.get_by_label("Use the form's").check()
    page.get_by_role("button", name="Accept these values").click()
    page.wait_for_url("**accepted=1")
    assert page.locator("#status").inner_text().lower() == "accepted"
    accessible(page)

    page.get_by_role("link", name="the case").click()
    assert page.get_by_label("Social worker", exact=True).input_value() == "Alex Newworker"
    history = page.locator("table").last.inner_text()
    assert "Jo Sample" in history and "Alex Newworker" in history and "a form" in history

    page.get_by_role("link", name="Submissions").click()
    assert "accepted" in page.locator("table").inner_text().lower()
    accessible(page)


def test_batch_of_meeting_packs_from_a_spreadsheet(server, page, tmp_path):
    """Download the template, fill it with a week of meetings, upload it, watch the progress
    page until the batch is done, download the ZIP."""
    import io
    import json
    import zipfile
    from datetime import date, datetime, time as clock

    from openpyxl import load_workbook

    base, _app = server
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("bea.browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Meeting packs").click()
    section = page.locator("section.pack", has=page.get_by_role("heading", name="Placement Stability Meeting"))
    with page.expect_download() as info:
        section.get_by_role("link", name="Download the spreadsheet template").click()
    assert info.value.suggested_filename == "placement-stability-meeting-meetings.xlsx"
    wb = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    ws = wb["Meetings"]
    headers = [c.value for c in ws[1]]
    for i in range(12):
        values = {"SU number": f"SU-EX-B{i:02d}", "Child's name": f"Batch{i} Example", "Meeting date": date(2026, 12, 1 + i % 5),
                  "Start time": clock(9 + i % 6, 0), "Invitees": "Jo Sample – Social worker",
                  "Date and time the meeting was requested": datetime(2026, 11, 30, 9, 0)}
        for name, value in values.items():
            ws.cell(row=2 + i, column=headers.index(name) + 1, value=value)
    ws.cell(row=14, column=headers.index("SU number") + 1, value="SU-EX-BAD")  # no meeting date: reported
    path = tmp_path / "week.xlsx"
    wb.save(path)

    section.get_by_label("Meetings spreadsheet").set_input_files(str(path))
    section.get_by_role("button", name="Build the packs for Placement Stability Meeting").click()
    page.wait_for_url(f"{base}/jobs/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Placement Stability Meeting"
    if page.locator("#job-status").inner_text().lower() in ("queued", "running"):
        assert page.locator("progress").count() == 1 and page.get_by_role("link", name="Refresh").count() == 1
        assert page.locator("meta[http-equiv=refresh]").count() == 0  # the script keeps it up to date instead
        accessible(page)
    # no reload here: the page's script follows the batch and shows the result when it ends
    from playwright.sync_api import expect

    expect(page.locator("#job-status")).to_have_text("done", timeout=120_000)
    expect(page.locator("#download")).to_be_visible()  # the ended batch's page, loaded by the script
    accessible(page)
    assert "12 of 13 packs built" in page.locator("#progress-text").inner_text()
    assert "Row 14" in page.locator(".warning-summary").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the ZIP").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest["folders"]) == 12 and manifest["problems"][0]["row"] == 14
    assert "2026-12-01_SU-EX-B00/meeting-pack.pdf" in archive.namelist()


@pytest.fixture
def idle_server(database_url, tmp_path):
    """The batch runner stopped once the service is up: a batch stays where the test puts it."""
    app = create_app(Settings(database_url=database_url, data_dir=str(tmp_path / "data"), job_workers=0),
                     registry=REGISTRY)
    records.create_user(app.state.db, "bea.browser", PASSWORD, role="practitioner", team="Browser Team")
    for served in _serve(app):
        app.state.jobs.stop()
        assert not app.state.jobs.alive()
        yield served


def test_the_job_page_follows_its_batch_without_reloading(idle_server, page):
    """The page's script shows progress as it is made (no reload, no meta refresh), and loads the
    page again once the batch has ended."""
    from playwright.sync_api import expect
    from sqlalchemy import update

    from service.store.models import JobPart
    from tests.packs.test_packs import PACKS, _csv, _row

    base, app = idle_server
    pack = PACKS.get("placement-stability-meeting")
    actor = records.actor_for(app.state.db, "bea.browser")
    job = app.state.jobs.submit(actor, pack.id, _csv([_row(i) for i in range(1, 6)], pack))
    page.goto(f"{base}/jobs/{job['id']}")
    page.get_by_label("Username").fill("bea.browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/jobs/{job['id']}")
    assert page.locator("#progress-text").inner_text().startswith("0 of 5 packs built")
    expect(page.locator("#updates")).to_be_visible()  # the script is running
    accessible(page)
    loads = []
    page.on("load", lambda _page: loads.append(1))
    with app.state.db.session() as s:  # as a builder reports: 3 meetings of the first part built
        s.execute(update(JobPart).where(JobPart.job_id == job["id"], JobPart.number == 1)
                  .values(status="running", built=3, last_row=4))
    expect(page.locator("#progress-text")).to_have_text("3 of 5 packs built (row 4).", timeout=15_000)
    assert page.locator("progress").get_attribute("value") == "3" and loads == []
    app.state.jobs.cancel(actor, job["id"])
    expect(page.get_by_text("The batch was cancelled; nothing was kept.")).to_be_visible(timeout=15_000)
    assert loads == [1]  # loaded again once, to show how it ended
    accessible(page)


@pytest.fixture
def sso_server(database_url, tmp_path, issuer):
    app = create_app(Settings(database_url=database_url, data_dir=str(tmp_path / "data"), job_workers=0,
                              sso=sso_settings(issuer)), registry=REGISTRY)
    records.create_user(app.state.db, "cai.sso@example.org", None, role="practitioner", team="Browser Team")
    yield from _serve(app)


def test_signing_in_with_the_organisations_provider(sso_server, page, issuer):
    """Through the real provider's pages and back: the page asked for, signed out, and someone
    the service does not know refused."""
    base, _app = sso_server
    provider_knows(issuer, "sub-cai", email="cai.sso@example.org")
    provider_knows(issuer, "sub-unknown", email="nobody.here@example.org")
    page.goto(f"{base}/cases")
    accessible(page)  # the login page, with the provider's button
    page.get_by_role("button", name="Sign in with Test Council").click()
    page.wait_for_url(f"{issuer}/**")  # at the provider, another site
    page.get_by_placeholder("sub").fill("sub-cai")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/cases")  # the Strict session cookie went with the page's own move on
    assert page.get_by_role("heading", level=1).inner_text() == "Your team's cases"
    page.get_by_role("button", name="Log out cai.sso@example.org").click()
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/cases")
    assert "/login" in page.url  # the session is over

    page.get_by_role("button", name="Sign in with Test Council").click()
    page.get_by_placeholder("sub").fill("sub-unknown")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/login/sso/callback*")
    assert "ask your administrator to add you" in page.locator(".error-summary").inner_text()
    accessible(page)
    page.goto(f"{base}/cases")
    assert "/login" in page.url


def test_a_manager_downloads_a_register_from_the_page(server, page):
    base, app = server
    records.create_user(app.state.db, "mo.manager", PASSWORD, role="manager", team="Browser Team")
    page.goto(f"{base}/manage")  # asked for before logging in: shown after
    page.get_by_label("Username").fill("mo.manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/manage")
    accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the register of Reducing Anxiety Management Plan (RAMP) (XLSX)").click()
    assert info.value.suggested_filename == "ramp-register.xlsx"
    assert Path(info.value.path()).read_bytes().startswith(b"PK")


def test_an_admin_adds_a_user_who_then_signs_in(server, page):
    """Administration with no shell: the admin adds a colleague, passes on the password shown
    once, and the colleague logs in with it; later the admin deactivates them."""
    base, app = server
    records.create_user(app.state.db, "ali.admin", PASSWORD, role="admin", team="Browser Team")
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("ali.admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url(f"{base}/admin")
    accessible(page)
    page.get_by_label("Username").fill("x")
    page.get_by_role("button", name="Add the user").click()
    assert "3 to 80 characters" in page.locator(".error-summary").inner_text()
    accessible(page)
    page.get_by_label("Username").fill("finn.new")
    page.get_by_label("Role").select_option("practitioner")
    page.get_by_role("button", name="Add the user").click()
    assert page.get_by_role("heading", level=1).inner_text() == "finn.new"
    password = page.locator("code.secret").inner_text()
    accessible(page)
    for link in ("Teams", "Sessions and API tokens", "Your account"):
        page.get_by_role("link", name=link).click()
        accessible(page)

    colleague = page.context.browser.new_context().new_page()
    colleague.goto(f"{base}/cases")
    colleague.get_by_label("Username").fill("finn.new")
    colleague.get_by_label("Password").fill(password)
    colleague.get_by_role("button", name="Log in").click()
    colleague.wait_for_url(f"{base}/cases")
    assert colleague.get_by_role("heading", level=1).inner_text() == "Your team's cases"

    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="finn.new").click()
    assert "1" in page.locator("table").first.inner_text() or page.locator("form[action='/sessions/end']").count() == 1
    page.get_by_role("button", name="Deactivate the account").click()
    assert "deactivated" in page.locator(".notice").inner_text()
    accessible(page)
    colleague.goto(f"{base}/cases")
    assert "/login" in colleague.url  # their session ended with the account
    colleague.context.close()


def test_the_api_docs_work_with_no_internet(server, page):
    """Swagger UI renders every operation with every request to another host refused."""
    base, _app = server
    elsewhere = []

    def only_here(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto(f"{base}/api/docs")
    page.get_by_text("/api/documents", exact=True).first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() > 20 and elsewhere == []


def test_every_page_state_passes_axe(server, page, tmp_path):
    """axe-core on each page and each state a person meets (lists, a review with problems and an
    earlier upload, a warning before download, errors at fields, administration, error pages)."""
    import re as regex

    from tests.conftest import load_sample

    base, app = server
    db = app.state.db
    admin = records.create_user(db, "ada.admin", PASSWORD, role="admin", team="Browser Team")
    case = records.create_case(db, admin, {"su_number": "SU-EX-A1", "child_name": "Ari Example",
                                           "date_of_birth": "2015-02-01"})
    long = records.create_case(db, admin, {"su_number": "SU-EX-A2", "child_name": "L" * 1000})
    closed = records.create_case(db, admin, {"su_number": "SU-EX-A3", "child_name": "Cai Example"})
    records.cases.set_closed(db, admin, closed["id"], True)
    data = {**load_sample("ramp"), "su_number": "SU-EX-A1", "child_name": None}
    raw = service.generate_document(REGISTRY.get("ramp"), data)
    first = records.receive_submission(db, admin, REGISTRY, raw)["id"]
    second = records.receive_submission(db, admin, REGISTRY, raw)["id"]
    records.discard_submission(db, admin, first)

    page.goto(f"{base}/login")
    accessible(page)
    page.get_by_label("Username").fill("ada.admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    for path in ("/", "/forms/ramp", "/cases", "/cases?closed=1", f"/cases/{case['id']}", "/cases?q=01/02/2015",
                 "/upload", "/submissions", "/submissions?status=discarded", f"/submissions/{second}",
                 f"/submissions/{first}", "/packs", "/manage", "/admin", f"/admin/users/{admin.user_id}",
                 "/admin/teams", "/admin/access", "/account", "/no/such/page", f"/cases/{closed['id']}"):
        page.goto(f"{base}{path}")
        accessible(page)
    # states reached by sending a form
    page.goto(f"{base}/forms/ramp?case={long['id']}")
    page.get_by_role("button", name="Download the form").click()
    page.get_by_role("heading", name="Some of the case's details will not go into this form").wait_for()
    accessible(page)
    page.goto(f"{base}/cases/{case['id']}")
    page.get_by_label("Date of birth").fill("31/02/2015")
    page.get_by_role("button", name="Save changes").click()
    page.locator(".field-error").wait_for()
    accessible(page)
    page.goto(f"{base}/upload")
    bad = tmp_path / "not-a-form.docx"
    bad.write_bytes(b"PK\x03\x04 not really")
    page.get_by_label("Completed form").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and read").click()
    page.locator(".error-summary").wait_for()
    accessible(page)
    page.goto(f"{base}/admin")
    page.get_by_label("Username").fill("x")
    page.get_by_role("button", name="Add the user").click()
    page.locator(".error-summary").wait_for()
    accessible(page)
    page.goto(f"{base}/account")
    page.get_by_label("Your current password").fill("not the password at all")
    page.get_by_label("A new password").fill("a brand new long password")
    page.get_by_label("The new password again").fill("a brand new long password")
    page.get_by_role("button", name="Change the password").click()
    page.locator(".error-summary").wait_for()
    accessible(page)
    assert regex.search(r"current password is not right", page.content())
