"""Lists that scale: submissions with the child's SU number and name, filtered by form, status
and case, 50 a page on the page and any page size in the API (X-Total-Count); an upload that
could not be used discarded (what was read removed, hidden unless asked for; an accepted one
cannot be); another team's never listed nor discarded."""

from __future__ import annotations

import re

import service
from service import records
from tests.conftest import REGISTRY, load_sample
from tests.web.test_admin import _csrf, _person


def _uploads(world, who, n, su="SU-EX-70", form="ramp"):
    actor = world.actors[who]
    raw = service.generate_document(REGISTRY.get(form), {**load_sample(form), "su_number": su})
    return [records.receive_submission(world.db, actor, REGISTRY, raw)["id"] for _ in range(n)]


def test_submissions_are_listed_a_page_at_a_time_with_the_child(world):
    records.create_case(world.db, world.actors["worker"], {"su_number": "SU-EX-70", "child_name": "Elis Example"})
    ids = _uploads(world, "worker", 53)
    _uploads(world, "south", 2)
    sam = _person(world, "sam.worker")
    page = sam.get("/submissions").text
    assert "53 submissions, page 1 of 2." in page and page.count("<td>SU-EX-70</td><td>Elis Example</td>") == 50
    assert 'href="/submissions?page=2" rel="next"' in page
    second = sam.get("/submissions?page=2").text
    assert second.count("SU-EX-70") == 3 and "Previous page" in second
    listed = set(re.findall(r'href="/submissions/([0-9a-f-]{36})"', page + second))
    assert listed == set(ids)  # every one once, none of the other team's
    api = world.get("worker", "/api/submissions", params={"per_page": 20, "page": 3})
    assert api.headers["x-total-count"] == "53" and len(api.json()) == 13
    assert api.json()[0]["su_number"] == "SU-EX-70" and api.json()[0]["child_name"] == "Elis Example"
    assert world.get("worker", "/api/submissions", params={"per_page": 20, "page": 4}).json() == []


def test_submissions_are_filtered_by_form_status_and_case(world):
    case = records.create_case(world.db, world.actors["worker"], {"su_number": "SU-EX-71"})
    ramp = _uploads(world, "worker", 2, su="SU-EX-71")
    other = _uploads(world, "worker", 1, su="SU-EX-72", form="key-criteria")
    sam = _person(world, "sam.worker")
    page = sam.get("/submissions", params={"form": "key-criteria"}).text
    assert "1 submission." in page and other[0] in page and ramp[0] not in page
    page = sam.get("/submissions", params={"case": case["id"]}).text
    assert "2 submissions." in page and set(re.findall(r'/submissions/([0-9a-f-]{36})"', page)) == set(ramp)
    accepted = sam.get("/submissions", params={"status": "accepted"}).text
    assert "0 submissions." in accepted and "No submission matches." in accepted
    assert sam.get("/submissions", params={"status": "nonsense"}).status_code == 422


def test_an_unusable_upload_is_discarded_and_its_answers_removed(world):
    sub_id = _uploads(world, "worker", 1)[0]
    sam = _person(world, "sam.worker")
    review = sam.get(f"/submissions/{sub_id}").text
    assert "Discard this upload" in review and load_sample("ramp")["child_name"] in review
    r = sam.post(f"/submissions/{sub_id}/discard", data={"csrf": _csrf(review)}, follow_redirects=False)
    assert r.status_code == 303 and "was discarded" in sam.get(r.headers["location"]).text
    assert sub_id not in sam.get("/submissions").text  # hidden unless asked for
    assert sub_id in sam.get("/submissions", params={"status": "discarded"}).text
    after = world.get("worker", f"/api/submissions/{sub_id}").json()
    assert after["status"] == "discarded" and after["result"]["data"] == {}  # nothing of the child's is kept
    assert load_sample("ramp")["child_name"] not in sam.get(f"/submissions/{sub_id}").text
    again = world.post("worker", f"/api/submissions/{sub_id}/discard")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_discardable"
    theirs = _uploads(world, "south", 1)[0]
    assert world.post("worker", f"/api/submissions/{theirs}/discard").status_code == 404
    assert world.get("south", f"/api/submissions/{theirs}").json()["status"] == "received"


def test_batches_are_listed_by_pack_title_and_an_ended_one_deleted(world):
    import time

    from tests.packs.test_packs import PACKS, _csv, _row

    pack = PACKS.get("placement-stability-meeting")
    job = world.post("worker", f"/api/packs/{pack.id}/jobs", files={"file": ("m.csv", _csv([_row(1)], pack))}).json()
    deadline = time.monotonic() + 60
    while world.get("worker", f"/api/jobs/{job['id']}").json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sam = _person(world, "sam.worker")
    listing = sam.get("/packs").text
    assert f'<td>{pack.title}</td>' in listing and job["id"] in listing
    assert world.post("south", f"/api/jobs/{job['id']}/delete").status_code in (404, 405)
    assert world.client.delete(f"/api/jobs/{job['id']}", headers=world.auth("south")).status_code == 404
    page = sam.get(f"/jobs/{job['id']}").text
    r = sam.post(f"/jobs/{job['id']}/delete", data={"csrf": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303 and "was deleted" in sam.get(r.headers["location"]).text
    assert job["id"] not in sam.get("/packs").text
    assert world.get("worker", f"/api/jobs/{job['id']}/download").status_code == 409
    assert not (world.db.files.path(f"jobs/{job['id']}.zip")).exists()
    assert world.get("worker", f"/api/jobs/{job['id']}").json()["status"] == "deleted"
