"""The pages, driven over HTTP: login with CSRF, every page renders for a logged-in user and
redirects otherwise, forms that change data refuse a missing CSRF token, the review page shows
values, errors and conflicts, and accepting updates the case."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

import service
from tests.conftest import REGISTRY, load_sample
from tests.web.conftest import PASSWORD


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(world, username="sam.worker", password=PASSWORD):
    page = world.client.get("/login")
    return world.client.post("/login", data={"username": username, "password": password, "csrf": _csrf(page.text)},
                             follow_redirects=False)


@pytest.mark.parametrize("url", ["/", "/cases", "/upload", "/submissions", "/forms/ramp"])
def test_pages_need_a_login(world, url):
    """And the login page comes back to the page asked for."""
    r = world.client.get(url, follow_redirects=False)
    expected = "/login" if url == "/" else f"/login?{urlencode({'next': url})}"
    assert r.status_code == 303 and r.headers["location"] == expected


def test_after_logging_in_the_page_asked_for_is_shown_and_only_on_this_site(world):
    login = world.client.get("/login?next=/cases%3Fq%3Dab")
    csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
    assert 'name="next" value="/cases?q=ab"' in login.text
    done = world.client.post("/login", data={"username": "sam.worker", "password": PASSWORD, "csrf": csrf,
                                             "next": "/cases?q=ab"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/cases?q=ab"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\\\evil.example"):
        world.client.cookies.clear()
        login = world.client.get("/login")
        csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
        done = world.client.post("/login", data={"username": "sam.worker", "password": PASSWORD, "csrf": csrf,
                                                 "next": elsewhere}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/"


def test_login_refuses_wrong_passwords_and_missing_csrf(world):
    r = _login(world, password="not the password")
    assert r.status_code == 401 and "not right" in r.text
    r = world.client.post("/login", data={"username": "sam.worker", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 401 and "sdf_session" not in r.cookies


def test_login_sets_a_strict_http_only_session(world):
    r = _login(world)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "sdf_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = world.client.get("/")
    assert page.status_code == 200 and "Key Criteria" in page.text and "sam.worker" in page.text
    for header in ("content-security-policy", "x-frame-options", "cache-control"):
        assert header in page.headers


@pytest.mark.parametrize("url", ["/", "/cases", "/upload", "/submissions", "/forms/ramp", "/forms/key-criteria"])
def test_pages_render(world, url):
    _login(world)
    r = world.client.get(url)
    assert r.status_code == 200 and "<h1>" in r.text and 'lang="en-GB"' in r.text


def test_case_download_upload_review_accept(world):
    _login(world)
    page = world.client.get("/cases")
    r = world.client.post("/cases", data={"csrf": _csrf(page.text), "su_number": "SU-EX-3001",
                                          "child_name": "Tomos Example", "social_worker_name": "Jo Sample"},
                          follow_redirects=False)
    assert r.status_code == 303
    case_url = r.headers["location"]
    case_id = case_url.rsplit("/", 1)[1]
    assert "Tomos Example" in world.client.get(case_url).text

    form_page = world.client.get(f"/forms/ramp?case={case_id}")
    r = world.client.post("/forms/ramp/download", data={"csrf": _csrf(form_page.text), "case_id": case_id,
                                                         "format": "docx"})
    assert r.status_code == 200 and r.content.startswith(b"PK")
    data = service.extract_document(r.content, REGISTRY).data
    assert data["child_name"] == "Tomos Example"

    filled = {**load_sample("ramp"), "su_number": "SU-EX-3001", "child_name": "Tomos Example",
              "completed_by": "New Worker"}
    upload = world.client.get("/upload")
    r = world.client.post("/upload", data={"csrf": _csrf(upload.text)},
                          files={"file": ("ramp.docx", service.generate_document(REGISTRY.get("ramp"), filled))},
                          follow_redirects=False)
    assert r.status_code == 303
    review = world.client.get(r.headers["location"])
    assert "What the form says" in review.text and "New Worker" in review.text and "Tomos Example" in review.text
    assert 'name="keep_social_worker_name"' in review.text  # the conflict asks which to keep

    accept_url = r.headers["location"] + "/accept"
    r = world.client.post(accept_url, data={"csrf": _csrf(review.text)})
    assert r.status_code == 409 and "differ from the case" in r.text
    r = world.client.post(accept_url, data={"csrf": _csrf(review.text), "keep_social_worker_name": "form"},
                          follow_redirects=False)
    assert r.status_code == 303
    assert "accepted" in world.client.get(r.headers["location"]).text
    case_page = world.client.get(case_url).text
    assert "New Worker" in case_page and "a form" in case_page  # history says where it came from


def test_state_changing_forms_need_the_csrf_token(world):
    _login(world)
    r = world.client.post("/cases", data={"csrf": "wrong", "su_number": "SU-EX-1"})
    assert r.status_code == 403
    r = world.client.post("/forms/ramp/download", data={"csrf": "wrong", "format": "docx"})
    assert r.status_code == 403
    r = world.client.post("/upload", data={"csrf": "wrong"}, files={"file": ("a.docx", b"PK")})
    assert r.status_code == 403
    assert world.client.get("/submissions").text.count("/submissions/") == 0


def test_upload_page_explains_a_refusal(world):
    _login(world)
    upload = world.client.get("/upload")
    r = world.client.post("/upload", data={"csrf": _csrf(upload.text)}, files={"file": ("notes.txt", b"hello")})
    assert r.status_code == 415 and "could not be read" in r.text


def test_review_highlights_errors_and_warnings(world):
    _login(world)
    raw = service.generate_document(REGISTRY.get("ramp"), {"su_number": "SU-EX-3002"})
    upload = world.client.get("/upload")
    r = world.client.post("/upload", data={"csrf": _csrf(upload.text)}, files={"file": ("r.docx", raw)})
    assert r.status_code == 200
    assert "Errors to correct" in r.text and 'class="row error"' in r.text
    assert "disabled" in r.text  # a form with errors cannot be accepted


def test_review_says_whose_version_and_which_version_a_document_is(world):
    """A family's version (questions it could not hold named as such) made from version 1.0.0
    of the form (read with it, its answers moved to the current version)."""
    from service.spec.audiences import restricted

    _login(world)
    family = restricted(REGISTRY.get("placement-stability-meeting"), "family")
    raw = service.generate_document(family, {"child_name": "Test Child"}, format="pdf")
    upload = world.client.get("/upload")
    r = world.client.post("/upload", data={"csrf": _csrf(upload.text)}, files={"file": ("f.pdf", raw)})
    assert r.status_code == 200 and "The version for family" in r.text
    assert re.search(r"This document was made for family: \d+\s+questions of the form\s+were not in it", r.text)
    old = REGISTRY.version("placement-stability-meeting", "1.0.0")
    r = world.client.post("/upload", data={"csrf": _csrf(upload.text)},
                          files={"file": ("o.docx", service.generate_document(old, {"child_name": "Test Child"}))})
    assert "Made from version 1.0.0 of the form" in r.text
    assert "“Status” is new, and empty" in r.text


def test_logout_ends_the_session(world):
    _login(world)
    page = world.client.get("/")
    r = world.client.post("/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert world.client.get("/", follow_redirects=False).status_code == 303


def test_another_teams_case_page_is_not_found(world):
    r = world.post("south", "/api/cases", json={"values": {"su_number": "SU-EX-S1", "child_name": "South Child"}})
    _login(world)
    page = world.client.get(f"/cases/{r.json()['id']}")
    assert page.status_code == 404 and "South Child" not in page.text


def test_packs_page_template_and_a_batch_over_http(world):
    import time as clock

    from tests.packs.test_packs import PACKS, _csv, _row

    _login(world)
    page = world.client.get("/packs")
    assert page.status_code == 200 and "Placement Stability Meeting" in page.text
    r = world.client.get("/packs/matching/template.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    raw = _csv([_row(1)], PACKS.get("matching"))
    assert world.client.post("/packs/matching/jobs", data={"csrf": "forged"},
                             files={"file": ("m.csv", raw)}).status_code == 403
    r = world.client.post("/packs/matching/jobs", data={"csrf": _csrf(page.text)}, files={"file": ("m.csv", raw)},
                          follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    deadline = clock.monotonic() + 60
    while "Download the ZIP" not in (text := world.client.get(job_url).text):
        assert clock.monotonic() < deadline and ('/static/progress.js' in text and 'id="refresh"' in text)
        progress = world.client.get(job_url + "/progress").json()  # what the page's script reads
        assert progress["status"] in ("queued", "running", "done") and progress["total"] == 1
        clock.sleep(0.1)
    assert world.client.get(job_url + "/download").content.startswith(b"PK")
    bad = world.client.post("/packs/matching/jobs", data={"csrf": _csrf(page.text)},
                            files={"file": ("m.csv", b"Child's name\nA\n")})
    assert bad.status_code == 422 and "could not be started" in bad.text


def test_a_batch_can_be_cancelled_from_its_page(database_url):
    import time as clock

    from tests.packs.test_packs import PACKS, _csv, _row
    from tests.web.conftest import make_world

    world = make_world(database_url, job_workers=1)
    with world.client:
        _login(world)
        page = world.client.get("/packs")
        pack = PACKS.get("placement-stability-meeting")
        r = world.client.post(f"/packs/{pack.id}/jobs", data={"csrf": _csrf(page.text)},
                              files={"file": ("m.csv", _csv([_row(i) for i in range(1, 40)], pack))},
                              follow_redirects=False)
        job_url = r.headers["location"]
        job_page = world.client.get(job_url)
        assert "Cancel the batch" in job_page.text and "<progress" in job_page.text
        r = world.client.post(job_url + "/cancel", data={"csrf": _csrf(job_page.text)}, follow_redirects=False)
        assert r.status_code == 303
        deadline = clock.monotonic() + 60
        while "was cancelled" not in (text := world.client.get(job_url).text):
            assert clock.monotonic() < deadline and "Download the ZIP" not in text
            clock.sleep(0.1)
        assert world.client.get(job_url + "/download").status_code == 409
    world.app.state.jobs.stop()
    world.db.dispose()


def test_failed_logins_are_audited_and_five_lock_the_username(world):
    from sqlalchemy import select

    from service.store.models import AuditEntry

    for _ in range(5):
        assert _login(world, password="not the password").status_code == 401
    r = _login(world)  # the right password, but the username is locked for now
    assert r.status_code == 429 and "wait 15 minutes" in r.text
    with world.db.session() as s:
        outcomes = [e.outcome for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "login", AuditEntry.username == "sam.worker").order_by(AuditEntry.seq))]
    assert outcomes == ["denied"] * 5 + ["throttled"]
    assert _login(world, username="nia.manager").status_code == 303  # other users are not affected


def test_a_good_login_clears_earlier_failures(world):
    for _ in range(4):
        _login(world, password="not the password")
    assert _login(world).status_code == 303
    for _ in range(4):
        assert _login(world, password="not the password").status_code == 401
    assert _login(world).status_code == 303


def test_the_cases_page_searches(world):
    world.post("worker", "/api/cases", json={"values": {"su_number": "SU-EX-P1", "child_name": "Ffion Example"}})
    world.post("worker", "/api/cases", json={"values": {"su_number": "SU-EX-P2", "child_name": "Gethin Sample"}})
    _login(world)
    page = world.client.get("/cases", params={"q": "ffion"}).text
    assert "Ffion Example" in page and "Gethin Sample" not in page
    assert "No case matches" in world.client.get("/cases", params={"q": "zzz"}).text


def test_managers_download_registers_from_the_page_and_admins_check_the_audit_log(world):
    from io import BytesIO

    from openpyxl import load_workbook

    _login(world, "nia.manager")
    page = world.client.get("/manage")
    assert page.status_code == 200 and 'href="/forms/ramp/register.xlsx"' in page.text
    assert "Check the audit log" not in page.text  # the check is for administrators
    book = world.client.get("/forms/ramp/register.xlsx")
    assert book.status_code == 200 and book.content.startswith(b"PK")
    ws = load_workbook(BytesIO(book.content)).active
    assert ws.auto_filter.ref and ws["D1"].value == "Accepted (UK time)"
    forged = world.client.post("/manage/audit-check", data={"csrf": _csrf(page.text)})
    assert forged.status_code == 403  # a manager asking anyway is refused by the core

    world.client.cookies.clear()
    _login(world, "ade.admin")
    page = world.client.get("/manage")
    assert "Check the audit log" in page.text
    checked = world.client.post("/manage/audit-check", data={"csrf": _csrf(page.text)})
    assert checked.status_code == 200 and "The audit log is intact" in checked.text
    assert world.client.post("/manage/audit-check", data={"csrf": "forged"}).status_code == 403

    world.client.cookies.clear()
    _login(world)  # a practitioner
    assert world.client.get("/manage").status_code == 403
    assert world.client.get("/forms/ramp/register.xlsx").status_code == 403
    assert "/manage" not in world.client.get("/").text
