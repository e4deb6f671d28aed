"""Every API endpoint, with its error paths, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

import service
from service.records import reading
from tests.conftest import REGISTRY, load_sample
from tests.web.conftest import make_world

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CASE = {"su_number": "SU-EX-2001", "child_name": "Rhys Example", "social_worker_name": "Jo Sample",
        "date_of_birth": "2012-04-01"}


def _case(world, who="worker", values=None) -> dict:
    r = world.post(who, "/api/cases", json={"values": values or CASE})
    assert r.status_code == 201, r.text
    return r.json()


def _upload(world, who, raw: bytes, name="form.docx", **form):
    return world.post(who, "/api/submissions", files={"file": (name, raw)}, data=form)


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["code"] == code and body["message"]
    return body


def test_health_is_the_only_anonymous_endpoint(world):
    health = world.client.get("/api/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    for url in ("/api/forms", "/api/cases", "/api/submissions", "/api/me"):
        r = world.client.get(url)
        _error(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"] == "Bearer"
    _error(world.client.get("/api/forms", headers={"Authorization": "Bearer sdf_not-a-token"}), 401, "unauthenticated")


def test_openapi_and_docs_are_served(world):
    schema = world.client.get("/api/openapi.json").json()
    assert {"/api/forms", "/api/documents", "/api/submissions", "/api/cases/{case_id}"} <= set(schema["paths"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    docs = world.client.get("/api/docs")
    assert docs.status_code == 200 and "cdn." not in docs.text and "https://" not in docs.text  # nothing from elsewhere
    assert "https://" not in docs.headers["content-security-policy"]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/api/docs/assets/{asset}" in docs.text
        assert world.client.get(f"/api/docs/assets/{asset}").status_code == 200


def test_forms_spec_and_schema(world):
    forms = world.get("worker", "/api/forms").json()
    assert {f["id"] for f in forms} == set(REGISTRY.ids())
    spec = world.get("worker", "/api/forms/ramp").json()
    assert spec["id"] == "ramp" and spec["sections"]
    schema = world.get("worker", "/api/forms/ramp/schema").json()
    assert schema["$schema"].endswith("2020-12/schema")
    _error(world.get("worker", "/api/forms/no-such-form"), 404, "form_unknown")


def test_me_and_tokens(world):
    assert world.get("manager", "/api/me").json() == {"username": "nia.manager", "role": "manager", "team": "North Team"}
    token = world.post("worker", "/api/tokens", json={"name": "my script"}).json()["token"]
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "sam.worker"


@pytest.mark.parametrize("fmt, magic", [("docx", b"PK"), ("pdf", b"%PDF-")])
def test_generate_blank_and_from_data(world, fmt, magic):
    r = world.post("worker", "/api/documents", json={"form": "ramp", "format": fmt})
    assert r.status_code == 200 and r.content.startswith(magic)
    assert r.headers["content-disposition"] == f'attachment; filename="ramp.{fmt}"'
    sample = load_sample("ramp")
    raw = world.post("worker", "/api/documents", json={"form": "ramp", "format": fmt, "data": sample}).content
    assert service.extract_document(raw, REGISTRY).data["child_name"] == sample["child_name"]


def test_generate_prefilled_from_a_case_then_data_overrides(world):
    case = _case(world)
    raw = world.post("worker", "/api/documents", json={"form": "ramp", "case_id": case["id"]}).content
    data = service.extract_document(raw, REGISTRY).data
    assert (data["child_name"], data["su_number"], data["completed_by"]) == ("Rhys Example", "SU-EX-2001", "Jo Sample")
    raw = world.post("worker", "/api/documents", json={"form": "ramp", "case_id": case["id"],
                                                        "data": {"completed_by": "Someone Else"}}).content
    assert service.extract_document(raw, REGISTRY).data["completed_by"] == "Someone Else"


def test_generate_errors(world):
    _error(world.post("worker", "/api/documents", json={"form": "ramp", "data": {"child_name": 5}}), 422, "data_unusable")
    _error(world.post("worker", "/api/documents", json={"form": "ramp", "format": "odt"}), 422, "invalid_request")
    _error(world.post("worker", "/api/documents", json={"form": "nope"}), 404, "form_unknown")
    _error(world.post("worker", "/api/documents", json={"form": "ramp", "extra": 1}), 422, "invalid_request")
    _error(world.post("worker", "/api/documents", content=b"{not json", headers={"content-type": "application/json"}),
           422, "invalid_request")


def test_cases_create_read_update_history(world):
    case = _case(world)
    assert case["values"] == CASE
    assert [c["su_number"] for c in world.get("manager", "/api/cases").json()] == ["SU-EX-2001"]
    r = world.client.patch(f"/api/cases/{case['id']}", json={"values": {"child_name": "Rhys Sample", "iro_name": ""}},
                           headers=world.auth("manager"))
    assert r.status_code == 200 and r.json()["values"]["child_name"] == "Rhys Sample"
    history = world.get("worker", f"/api/cases/{case['id']}/history").json()
    change = [h for h in history if h["key"] == "child_name"][-1]
    assert (change["old"], change["new"], change["by"], change["source"]) == ("Rhys Example", "Rhys Sample",
                                                                              "nia.manager", "entered")


def test_case_errors(world):
    for values in ({"child_name": "No Number"}, {"su_number": "X", "shoe_size": 4}, {"su_number": "X", "age": 99},
                   {"su_number": "X", "date_of_birth": "1/2/2012"}, {"su_number": "X", "age": "12"},
                   {"su_number": "   "}):
        body = _error(world.post("worker", "/api/cases", json={"values": values}), 422, "invalid_request")
        assert body["details"] and "No Number" not in str(body)
    _case(world)
    _error(world.post("manager", "/api/cases", json={"values": CASE}), 409, "case_exists")
    _error(world.get("worker", "/api/cases/00000000-0000-4000-8000-000000000000"), 404, "not_found")
    _error(world.client.patch("/api/cases/x" * 20, json={"values": {}}, headers=world.auth("worker")), 404, "not_found")


def test_upload_review_and_accept_with_a_conflict(world):
    case = _case(world)
    sample = {**load_sample("ramp"), "su_number": "SU-EX-2001", "child_name": "Rhys Example",
              "completed_by": "Different Worker"}
    raw = service.generate_document(REGISTRY.get("ramp"), sample)
    r = _upload(world, "worker", raw)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert (sub["form"], sub["status"], sub["case_id"], sub["errors"]) == ("ramp", "received", case["id"], 0)
    assert sub["result"]["data"]["completed_by"] == "Different Worker"
    compare = {row["key"]: row["status"] for row in sub["case_values"]}
    assert compare == {"child_name": "same", "su_number": "same", "social_worker_name": "conflict"}
    listed = world.get("manager", "/api/submissions").json()
    assert [s["id"] for s in listed] == [sub["id"]] and "result" not in listed[0]
    assert world.get("worker", f"/api/submissions/{sub['id']}").json()["result"] == sub["result"]

    body = _error(world.post("worker", f"/api/submissions/{sub['id']}/accept", json={}), 409, "unresolved_conflicts")
    assert body["details"][0]["key"] == "social_worker_name"
    assert world.get("worker", f"/api/cases/{case['id']}").json()["values"]["social_worker_name"] == "Jo Sample"

    r = world.post("worker", f"/api/submissions/{sub['id']}/accept",
                   json={"resolutions": {"social_worker_name": "form"}})
    assert r.status_code == 200 and r.json()["changed"] == ["social_worker_name"]
    assert world.get("worker", f"/api/cases/{case['id']}").json()["values"]["social_worker_name"] == "Different Worker"
    history = world.get("worker", f"/api/cases/{case['id']}/history").json()
    assert history[-1] | {"at": None} == {"key": "social_worker_name", "old": "Jo Sample", "new": "Different Worker",
                                          "source": "submission", "submission_id": sub["id"], "by": "sam.worker",
                                          "at": None}
    _error(world.post("worker", f"/api/submissions/{sub['id']}/accept", json={}), 409, "already_accepted")
    assert world.get("worker", "/api/submissions?status=accepted").json()[0]["status"] == "accepted"


def test_keeping_the_case_value_changes_nothing(world):
    case = _case(world)
    raw = service.generate_document(REGISTRY.get("ramp"), {**load_sample("ramp"), "su_number": "SU-EX-2001",
                                                            "child_name": "Other Name"})
    sub = _upload(world, "worker", raw).json()
    r = world.post("worker", f"/api/submissions/{sub['id']}/accept",
                   json={"resolutions": {"child_name": "case", "social_worker_name": "case"}})
    assert r.json()["changed"] == []
    assert world.get("worker", f"/api/cases/{case['id']}").json()["values"] == CASE


def test_accept_into_a_new_case_and_no_case(world):
    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
    sub = _upload(world, "worker", raw, name="anything.bin").json()
    assert sub["case_id"] is None and sub["format"] == "docx"
    _error(world.post("worker", f"/api/submissions/{sub['id']}/accept", json={}), 409, "no_case")
    r = world.post("worker", f"/api/submissions/{sub['id']}/accept", json={"create_case": True})
    case = world.get("worker", f"/api/cases/{r.json()['case_id']}").json()
    assert case["su_number"] == load_sample("ramp")["su_number"]
    assert case["values"]["child_name"] == load_sample("ramp")["child_name"]


def test_pdf_upload(world):
    raw = service.generate_document(REGISTRY.get("key-criteria"), load_sample("key-criteria"), format="pdf")
    sub = _upload(world, "worker", raw, name="form.docx").json()  # the name does not decide the type
    assert sub["format"] == "pdf" and sub["form"] == "key-criteria" and sub["errors"] == 0


def test_a_form_with_errors_is_not_accepted(world):
    raw = service.generate_document(REGISTRY.get("ramp"), {"su_number": "SU-EX-2001"})
    sub = _upload(world, "worker", raw).json()
    assert sub["errors"] > 0
    _error(world.post("worker", f"/api/submissions/{sub['id']}/accept", json={"create_case": True}), 409,
           "submission_invalid")


@pytest.mark.parametrize("raw, status, code", [
    (b"just some text", 415, "not_a_zip"),
    (b"%PDF-1.7\n" + b"\x00" * 100, 422, "corrupt_pdf"),
    (b"", 415, "not_a_zip"),
])
def test_unreadable_uploads_store_nothing(world, raw, status, code):
    _error(_upload(world, "worker", raw), status, code)
    assert world.get("worker", "/api/submissions").json() == []


def test_a_zip_that_is_not_word_is_unsupported(world):
    import zipfile

    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    _error(_upload(world, "worker", buf.getvalue()), 415, "not_a_word_document")


def test_upload_limit_is_enforced_before_the_body_is_read(database_url):
    world = make_world(database_url, max_upload_bytes=1024 * 1024)
    with world.client:
        big = b"PK" + b"\x00" * (2 * 1024 * 1024)
        _error(_upload(world, "worker", big), 413, "file_too_large")
        # a declared length over the limit is refused without reading the body
        r = world.client.post("/api/submissions", content=b"x", headers={**world.auth("worker"),
                                                                         "content-length": str(50 * 1024 * 1024)})
        _error(r, 413, "file_too_large")

        def chunks():  # a multipart upload with no Content-Length: counted as it arrives
            yield b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="f.docx"\r\n\r\n'
            for _ in range(40):
                yield b"\x00" * 65536
            yield b"\r\n--b0undary--\r\n"

        r = world.client.post("/api/submissions", content=chunks(), headers={**world.auth("worker"),
                              "content-type": "multipart/form-data; boundary=b0undary"})
        _error(r, 413, "file_too_large")
        assert world.get("worker", "/api/submissions").json() == []
    world.db.dispose()


def test_a_json_body_is_limited_far_below_the_upload_limit(world):
    """Twenty MiB of JSON can cost half a gigabyte as Python objects: any body that is not a file
    upload is refused over 2 MiB, declared or not, and deeply nested JSON is a plain 4xx."""
    from service.web.limits import OTHER_BYTES

    many = b'{"child_name": "A", "x": [' + b"{}," * (OTHER_BYTES // 3) + b"{}]}"
    r = world.post("worker", "/api/cases", content=many, headers={"content-type": "application/json"})
    assert "only uploaded files" in _error(r, 413, "file_too_large")["message"]

    def chunks():
        yield b'{"child_name": "A", "x": ['
        for _ in range(OTHER_BYTES // 65536 + 1):
            yield b"{}," * 21845
        yield b"{}]}"

    r = world.post("worker", "/api/cases", content=chunks(), headers={"content-type": "application/json"})
    _error(r, 413, "file_too_large")
    deep = b"[" * 200_000 + b"]" * 200_000
    r = world.post("worker", "/api/cases", content=deep, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.status_code
    assert world.get("worker", "/api/cases").json() == []


def test_parsing_is_limited_and_the_rest_get_429(world, monkeypatch):
    monkeypatch.setattr(reading, "WAIT_FOR_SLOT", 0.05)
    slots = reading._slots(world.db.settings.parse_concurrency)
    held = [slots.acquire(timeout=1) for _ in range(world.db.settings.parse_concurrency)]
    try:
        raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
        r = _upload(world, "worker", raw)
        _error(r, 429, "busy")
        assert r.headers["retry-after"] == "5"
    finally:
        for ok in held:
            if ok:
                slots.release()
    assert _upload(world, "worker", raw).status_code == 201


def test_one_persons_uploads_hold_one_parser_and_others_are_served(world, monkeypatch):
    """While one of a user's uploads is being read (an attack of slow files, or a stuck one),
    their next waits and gets 429; someone else's upload is read at once."""
    monkeypatch.setattr(reading, "WAIT_FOR_SLOT", 0.05)
    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
    with reading.reading_slot(world.actors["worker"].user_id, world.db.settings.parse_concurrency):
        assert "your uploads" in _error(_upload(world, "worker", raw), 429, "busy")["message"]
        assert _upload(world, "manager", raw).status_code == 201
    assert _upload(world, "worker", raw).status_code == 201


def test_register_export_is_safe_and_for_managers(world):
    case = _case(world)
    formula = '=HYPERLINK("http://example.invalid")'
    sample = {**load_sample("ramp"), "su_number": "SU-EX-2001", "child_name": formula, "completed_by": "@SUM(A1)"}
    sub = _upload(world, "worker", service.generate_document(REGISTRY.get("ramp"), sample)).json()
    r = world.post("worker", f"/api/submissions/{sub['id']}/accept",
                   json={"resolutions": {"child_name": "case", "social_worker_name": "case"}})
    assert r.status_code == 200, r.text
    _error(world.get("worker", "/api/forms/ramp/register.xlsx"), 403, "forbidden")
    r = world.get("manager", "/api/forms/ramp/register.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    ws = load_workbook(BytesIO(r.content)).active
    assert ws.max_row == 2
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    for risky in (formula, "@SUM(A1)"):
        cell = next(c for c in cells if c.value == risky)
        assert cell.data_type == "s" and cell.quotePrefix
    values = [c.value for c in cells]
    assert "SU-EX-2001" in values and case["id"] not in values
    assert world.get("south", "/api/forms/ramp/register.xlsx").status_code == 403
    # dates are date cells, shown as people in England and Wales write them; a filter on every column
    headers = [c.value for c in ws[1]]
    accepted = ws.cell(row=2, column=headers.index("Accepted (UK time)") + 1)
    assert isinstance(accepted.value, datetime) and accepted.number_format == "DD/MM/YYYY HH:MM"
    dated = [f for f in REGISTRY.get("ramp").fields if f.type == "date" and sample.get(f.key)]
    assert dated, "the RAMP sample has a date to show"
    cell = ws.cell(row=2, column=headers.index(dated[0].label) + 1)
    assert isinstance(cell.value, datetime) and cell.value.date().isoformat() == sample[dated[0].key]
    assert cell.number_format == "DD/MM/YYYY"
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(headers)).column_letter}2"


def test_audit_verify_is_for_admins(world):
    _case(world)
    _error(world.get("manager", "/api/audit/verify"), 403, "forbidden")
    check = world.get("admin", "/api/audit/verify").json()
    assert check["ok"] and check["entries"] > 5 and check["first_bad"] is None


def test_cases_can_be_searched_by_su_number_or_name(world):
    _case(world)
    _case(world, values={"su_number": "SU-EX-2002", "child_name": "Mali  Sample"})
    def found(q):
        return [c["su_number"] for c in world.get("worker", "/api/cases", params={"q": q}).json()]
    assert found("mali sample") == ["SU-EX-2002"]
    assert found("ex-200") == ["SU-EX-2001", "SU-EX-2002"]
    assert found("rhys") == ["SU-EX-2001"]
    assert found("nobody") == []
    assert [c["su_number"] for c in world.get("south", "/api/cases", params={"q": "rhys"}).json()] == []


def test_tokens_expire_are_listed_and_can_be_revoked(world):
    from datetime import datetime, timedelta, timezone

    from service.store.models import ApiToken

    made = world.post("worker", "/api/tokens", json={"name": "nightly export", "days": 30})
    assert made.status_code == 201
    token = made.json()["token"]
    mine = world.get("worker", "/api/tokens").json()
    new = next(t for t in mine if t["name"] == "nightly export")
    assert new["state"] == "active" and new["owner"] == "sam.worker" and "token" not in new
    left = datetime.fromisoformat(new["expires_at"]) - datetime.now(timezone.utc)
    assert timedelta(days=29) < left <= timedelta(days=30)
    assert {t["owner"] for t in mine} == {"sam.worker"}  # a practitioner sees only their own
    assert {t["owner"] for t in world.get("admin", "/api/tokens").json()} >= {"sam.worker", "nia.manager"}
    # another user's token cannot be revoked, and the try is audited as denied
    _error(world.post("manager", f"/api/tokens/{new['id']}/revoke"), 404, "not_found")
    _error(world.post("worker", f"/api/tokens/{2 ** 80}/revoke"), 404, "not_found")  # beyond any row id: not a 500
    auth = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=auth).status_code == 200
    revoked = world.post("worker", f"/api/tokens/{new['id']}/revoke").json()
    assert revoked["state"] == "revoked" and revoked["revoked_at"]
    _error(world.client.get("/api/me", headers=auth), 401, "unauthenticated")
    # an expired token stops working
    other = world.post("worker", "/api/tokens", json={"name": "short", "days": 1}).json()["token"]
    with world.db.session() as s:
        row = s.query(ApiToken).filter(ApiToken.name == "short").one()
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    body = _error(world.client.get("/api/me", headers={"Authorization": f"Bearer {other}"}), 401, "unauthenticated")
    assert "expired" in body["message"]
    with world.db.session() as s:
        from service.store.models import AuditEntry

        actions = [(a.action, a.outcome) for a in s.query(AuditEntry)]
    assert ("token.revoke", "denied") in actions and ("token.revoke", "ok") in actions


def test_refusals_and_reads_that_were_not_audited_now_are(world):
    """An empty upload, a manager asking for the audit check, and reading a batch's status each
    leave an entry; and the audit check compares the chain with the published checkpoints."""
    from service.store.models import AuditEntry

    _error(world.post("worker", "/api/submissions", files={"file": ("empty.docx", b"")}), 415, "not_a_zip")
    _error(world.get("manager", "/api/audit/verify"), 403, "forbidden")
    job = world.post("worker", "/api/packs/susd-expressions-of-interest/jobs").json()
    assert world.get("worker", f"/api/jobs/{job['id']}").status_code == 200
    assert world.get("worker", "/api/jobs").status_code == 200
    with world.db.session() as s:
        entries = {(a.username, a.action, a.outcome) for a in s.query(AuditEntry)}
    assert {("sam.worker", "submission.upload", "refused"), ("nia.manager", "audit.verify", "denied"),
            ("sam.worker", "job.read", "ok"), ("sam.worker", "job.list", "ok")} <= entries
    check = world.get("admin", "/api/audit/verify").json()
    assert check["ok"] is True and check["entries"] >= 5
