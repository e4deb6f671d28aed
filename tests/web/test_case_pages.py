"""The case pages: a duplicate SU number refused with a link to the child's existing case, a
problem shown at its field with everything typed kept (adding and editing), and the search by
name without accents and by date of birth."""

from __future__ import annotations

import re

from tests.web.test_admin import _csrf, _person


def _add(c, **values):
    return c.post("/cases", data={"csrf": _csrf(c.get("/cases").text), **values}, follow_redirects=False)


def test_a_second_case_for_a_child_is_refused_with_a_link_to_the_first(world):
    sam = _person(world, "sam.worker")
    first = _add(sam, su_number="SU 12 AB", child_name="Ŵyn Example")
    assert first.status_code == 303
    first_id = first.headers["location"].rsplit("/", 1)[1]
    r = _add(sam, su_number="su12ab", child_name="Wyn Example", social_worker_name="Jo Sample")
    assert r.status_code == 409 and "already has a case with this SU number" in r.text
    assert f'<a href="/cases/{first_id}">Go to the existing case</a>' in r.text
    assert 'href="#su_number"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="Jo Sample"' in r.text and 'value="su12ab"' in r.text  # what was typed is kept


def test_a_wrong_date_is_shown_at_its_field_and_the_rest_kept_when_editing(world):
    sam = _person(world, "sam.worker")
    case_url = _add(sam, su_number="SU-EX-20", child_name="Ari Example").headers["location"]
    page = sam.get(case_url).text
    r = sam.post(case_url, data={"csrf": _csrf(page), "su_number": "SU-EX-20", "child_name": "Ari Newname",
                                 "date_of_birth": "31/02/2015"})
    assert r.status_code == 422
    field = re.search(r'<div class="group error">.*?</div>\s*</div>|<div class="group error">.*?<input[^>]*>', r.text,
                      re.S).group(0)
    assert 'for="date_of_birth"' in field and "Date of birth must be a date written DD/MM/YYYY" in field
    assert 'value="Ari Newname"' in r.text and 'value="31/02/2015"' in r.text
    assert "Ari Example" in r.text  # the heading still shows what is stored: nothing was changed
    assert "Ari Example" in sam.get(case_url).text and "Ari Newname" not in sam.get(case_url).text


def test_cases_are_found_without_accents_and_by_date_of_birth(world):
    sam = _person(world, "sam.worker")
    _add(sam, su_number="SU-EX-31", child_name="Ŵyn Example", date_of_birth="01/02/2015")
    _add(sam, su_number="SU-EX-32", child_name="Bryn Sample", date_of_birth="02/02/2015")
    assert "Ŵyn Example" in (page := sam.get("/cases", params={"q": "wyn"}).text) and "Bryn Sample" not in page
    page = sam.get("/cases", params={"q": "02/02/2015"}).text
    assert "Bryn Sample" in page and "Ŵyn Example" not in page and "<td>02/02/2015</td>" in page


def test_the_review_page_shows_an_upload_already_accepted_and_offers_no_second_acceptance(world):
    from tests.records.test_one_acceptance import _document

    sam = _person(world, "sam.worker")
    _add(sam, su_number="SU-EX-50", child_name="Elis Example")
    raw = _document()

    def upload():
        r = sam.post("/upload", data={"csrf": _csrf(sam.get("/upload").text)}, files={"file": ("ramp.docx", raw)},
                     follow_redirects=False)
        assert r.status_code == 303
        return r.headers["location"]

    first, second = upload(), upload()
    page = sam.get(second).text
    assert "This document was uploaded before" in page and "The same file" in page
    assert "Accept these values" in page  # nothing accepted yet
    api = world.get("worker", f"/api/submissions/{first.rsplit('/', 1)[1]}").json()
    keys = [r["key"] for r in api["case_values"] if r["status"] == "conflict"]
    r = sam.post(f"{first}/accept", data={"csrf": _csrf(sam.get(first).text), **{f"keep_{k}": "form" for k in keys}},
                 follow_redirects=False)
    assert r.status_code == 303
    page = sam.get(second).text
    assert "This file was already accepted" in page and "Accept these values" not in page
    api = world.get("worker", f"/api/submissions/{second.rsplit('/', 1)[1]}").json()
    assert api["acceptance"]["code"] == "already_accepted" and api["uploads"][0]["status"] == "accepted"
    r = sam.post(f"{second}/accept", data={"csrf": _csrf(page)})  # asked anyway: refused, said on the page
    assert r.status_code == 409 and "already accepted" in r.text


def test_a_case_value_too_long_for_the_form_is_warned_about_before_download_and_kept(world):
    import service
    from tests.conftest import REGISTRY

    sam = _person(world, "sam.worker")
    case_url = _add(sam, su_number="SU-EX-60", child_name="E" * 1000).headers["location"]
    case_id = case_url.rsplit("/", 1)[1]
    page = sam.get(f"/forms/ramp?case={case_id}").text
    r = sam.post("/forms/ramp/download", data={"csrf": _csrf(page), "case_id": case_id, "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")  # not the file yet
    assert "will not go into this form" in r.text and "1,000 characters" in r.text and "takes 500" in r.text
    warning = r.text[r.text.index('<div class="warning-summary"'):r.text.index("Change the case first")]
    assert "E" * 20 not in warning  # the value itself is never repeated in the warning
    assert 'id="fmt-pdf" name="format" value="pdf" checked' in r.text  # the choice kept
    r = sam.post("/forms/ramp/download", data={"csrf": _csrf(page), "case_id": case_id, "format": "docx",
                                               "anyway": "yes"})
    assert r.status_code == 200 and r.content.startswith(b"PK")
    assert r.headers["content-disposition"] == 'attachment; filename="ramp-SU-EX-60.docx"'
    assert not service.extract_document(r.content, REGISTRY).data.get("child_name")
    assert world.get("worker", f"/api/cases/{case_id}").json()["values"]["child_name"] == "E" * 1000  # kept
    api = world.post("worker", "/api/documents", json={"form": "ramp", "case_id": case_id})
    assert api.status_code == 200 and api.headers["x-prefill-left-out"] == "child_name"


def test_a_case_form_for_the_family_holds_only_what_the_family_may_see(world):
    import service
    from tests.conftest import REGISTRY

    sam = _person(world, "sam.worker")
    case_id = _add(sam, su_number="SU-EX-61", child_name="Ari Example").headers["location"].rsplit("/", 1)[1]
    form = "placement-stability-meeting"
    page = sam.get(f"/forms/{form}?case={case_id}").text
    assert "Whose version" in page and 'value="family"' in page
    assert "Whose version" not in sam.get(f"/forms/ramp?case={case_id}").text  # nothing in the RAMP for others
    r = sam.post(f"/forms/{form}/download", data={"csrf": _csrf(page), "case_id": case_id, "format": "pdf",
                                                   "audience": "family"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert r.headers["content-disposition"] == f'attachment; filename="{form}-family.pdf"'  # no SU in it either
    assert b"SU-EX-61" not in r.content
    result = service.extract_document(r.content, REGISTRY)
    assert result.audience == "family" and result.data["child_name"] == "Ari Example" and "su_number" in result.hidden
    api = world.post("worker", "/api/documents", json={"form": form, "case_id": case_id, "audience": "child",
                                                       "data": {"overview": "not for the child"}})
    child = service.extract_document(api.content, REGISTRY)
    assert child.audience == "child" and child.data["overview"] is None
    assert world.post("worker", "/api/documents", json={"form": form, "audience": "neighbours"}).status_code == 422


def test_download_names_carry_the_form_and_a_safe_su_number(world):
    from service.web.api.documents import download_name
    from tests.conftest import REGISTRY

    spec = REGISTRY.get("ramp")
    assert download_name(spec, {"su_number": 'SU/../12 "x";\r\nY'}, "docx") == "ramp-SU-12-x-Y.docx"
    assert download_name(spec, {"su_number": "Ŵ"}, "pdf") == "ramp.pdf" and download_name(spec, {}, "pdf") == "ramp.pdf"
    sam = _person(world, "sam.worker")
    r = world.post("worker", "/api/documents", json={"form": "ramp", "data": {"su_number": "SU 77"}})
    assert r.headers["content-disposition"] == 'attachment; filename="ramp-SU-77.docx"'
    assert "x-prefill-left-out" not in r.headers and sam.get("/").status_code == 200


def test_a_file_that_no_longer_says_which_form_it_is_can_be_named_on_the_upload_page(world):
    import io
    import zipfile

    import service
    from tests.conftest import REGISTRY, load_sample

    raw = service.generate_document(REGISTRY.get("ramp"), load_sample("ramp"))
    stripped = io.BytesIO()  # as if the text were copied into a new document: no properties, no data part
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "docProps/custom.xml" and not info.filename.startswith("customXml/"):
                out.writestr(info, src.read(info))
    sam = _person(world, "sam.worker")

    def upload(form=""):
        return sam.post("/upload", data={"csrf": _csrf(sam.get("/upload").text), "form": form},
                        files={"file": ("copy.docx", stripped.getvalue())}, follow_redirects=False)

    r = upload()
    assert r.status_code == 422 and "Say which form it is" in r.text and 'id="form"' in r.text
    r = upload("ramp")
    assert r.status_code == 303
    review = sam.get(r.headers["location"]).text
    assert "Reducing Anxiety Management Plan (RAMP)" in review and load_sample("ramp")["child_name"] in review
    r = upload("no-such-form")
    assert r.status_code == 404 and '<option value="no-such-form" selected>' not in r.text


def test_the_review_pages_summary_links_each_problem_to_its_question(world):
    import service
    from tests.conftest import REGISTRY, load_sample

    data = load_sample("ramp")
    data["child_name"] = None  # a required answer missing
    raw = service.generate_document(REGISTRY.get("ramp"), data)
    sam = _person(world, "sam.worker")
    r = sam.post("/upload", data={"csrf": _csrf(sam.get("/upload").text)}, files={"file": ("ramp.docx", raw)},
                 follow_redirects=False)
    page = sam.get(r.headers["location"]).text
    summary = page[page.index('aria-label="Errors"'):page.index("</div>", page.index('aria-label="Errors"'))]
    targets = re.findall(r'href="#(q-[A-Za-z0-9_-]+)"', summary)
    assert targets and "q-child_name" in targets
    for target in targets:
        row = re.search(rf'<div class="row (error|warning)" id="{target}">\s*<dt>([^<]+)</dt>', page)
        assert row is not None, target  # the question it links to, marked
    assert re.search(r'<dd>\s*<span class="value">', page)  # the value sits at the top of its cell


def test_a_case_page_lists_its_submissions_the_forms_downloaded_and_the_packs_built(world):
    import time

    from tests.packs.test_packs import PACKS, _csv, _row

    sam = _person(world, "sam.worker")
    case_url = _add(sam, su_number="SU-EX-1", child_name="Ari Example").headers["location"]
    case_id = case_url.rsplit("/", 1)[1]
    page = sam.get(f"/forms/ramp?case={case_id}").text
    r = sam.post("/forms/ramp/download", data={"csrf": _csrf(page), "case_id": case_id, "format": "docx"})
    assert r.content.startswith(b"PK")
    upload = sam.post("/upload", data={"csrf": _csrf(sam.get("/upload").text)}, files={"file": ("r.docx", r.content)},
                      follow_redirects=False).headers["location"]
    pack = PACKS.get("placement-stability-meeting")
    job = world.post("worker", f"/api/packs/{pack.id}/jobs", files={"file": ("m.csv", _csv([_row(1, su_number="su-EX-1 ")], pack))}).json()  # however written
    deadline = time.monotonic() + 60
    while world.get("worker", f"/api/jobs/{job['id']}").json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page = sam.get(case_url).text
    assert upload.rsplit("/", 1)[1] in page  # its submission
    assert "Reducing Anxiety Management Plan (RAMP) (downloaded)" in page
    assert f'Meeting pack: <a href="/jobs/{job["id"]}">{pack.title}</a>' in page
    other = _add(sam, su_number="SU-EX-2").headers["location"]
    assert "No form has been downloaded" in sam.get(other).text  # another child's page lists nothing of these


def test_a_closed_case_leaves_the_lists_until_reopened(world):
    sam = _person(world, "sam.worker")
    case_url = _add(sam, su_number="SU-EX-3", child_name="Cai Example").headers["location"]
    case_id = case_url.rsplit("/", 1)[1]
    r = sam.post(f"{case_url}/closed", data={"csrf": _csrf(sam.get(case_url).text), "closed": "yes"},
                 follow_redirects=False)
    assert r.status_code == 303 and "This case was closed on" in sam.get(case_url).text
    assert "Cai Example" not in sam.get("/cases").text and "Cai Example" in sam.get("/cases?closed=1").text
    assert case_id not in sam.get("/forms/ramp").text  # not offered to prefill from
    assert _add(sam, su_number="su-ex-3").status_code == 409  # still the child's one case
    sam.post(f"{case_url}/closed", data={"csrf": _csrf(sam.get(case_url).text), "closed": "no"})
    assert "Cai Example" in sam.get("/cases").text
    south = _person(world, "ola.south")
    assert south.post(f"{case_url}/closed", data={"csrf": _csrf(south.get("/cases").text), "closed": "yes"}
                      ).status_code == 404


def test_the_cases_list_pages_beyond_fifty(world):
    from service import records

    for i in range(55):
        records.create_case(world.db, world.actors["worker"], {"su_number": f"SU-EX-P{i:03d}"})
    sam = _person(world, "sam.worker")
    first, second = sam.get("/cases").text, sam.get("/cases?page=2").text
    assert "55 cases, page 1 of 2." in first and first.count("SU-EX-P") == 50 and second.count("SU-EX-P") == 5
    assert "SU-EX-P054" in second and "Next page" in first
