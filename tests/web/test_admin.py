"""Administration from the browser (``/admin``) and one's own account (``/account``), over HTTP:
users added, changed, deactivated, reset and unlocked; teams; tokens and sessions made, listed,
ended; every change audited, every refusal too; another team's people out of reach; the rules
that keep a team administrable; CSRF on every change."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.store.models import AuditEntry, User
from tests.web.conftest import PASSWORD


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _secret(html: str) -> str:
    return re.search(r'class="secret">([^<]+)<', html).group(1)


def _person(world, username: str, password: str = PASSWORD) -> TestClient:
    """A browser of its own (its own cookies), logged in as ``username``."""
    c = TestClient(world.app)
    page = c.get("/login")
    r = c.post("/login", data={"username": username, "password": password, "csrf": _csrf(page.text)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _login_status(world, username: str, password: str) -> int:
    c = TestClient(world.app)
    page = c.get("/login")
    return c.post("/login", data={"username": username, "password": password, "csrf": _csrf(page.text)},
                  follow_redirects=False).status_code


def _post(c: TestClient, page: str, action: str, **data):
    return c.post(action, data={"csrf": _csrf(c.get(page).text), **data}, follow_redirects=False)


def _token_id(page: str, name: str) -> str:
    """The id in the revoke button of the token called ``name``, in its own table row."""
    row = next(r for r in page.split("<tr>") if r.startswith(f"<td>{name}</td>"))
    return re.search(r'action="/tokens/(\d+)/revoke"', row).group(1)


def _uid(world, username: str) -> int:
    with world.db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def _actions(world, *names: str) -> list[tuple[str, str, str]]:
    with world.db.session() as s:
        return [(e.action, e.username, e.outcome) for e in
                s.scalars(select(AuditEntry).where(AuditEntry.action.in_(names)).order_by(AuditEntry.seq))]


def test_an_admin_adds_a_user_whose_password_is_shown_once_and_works(world):
    admin = _person(world, "ade.admin")
    r = _post(admin, "/admin", "/admin/users", username="Kit.New", role="practitioner", signin="password")
    assert r.status_code == 201 and "shown only this once" in r.text
    password = _secret(r.text)
    assert _login_status(world, "kit.new", password) == 303
    listing = admin.get("/admin").text
    assert "kit.new" in listing and "ola.south" not in listing  # the team's users only
    again = admin.get(f"/admin/users/{_uid(world, 'kit.new')}").text
    assert password not in again  # never shown again
    assert ("user.add", "ade.admin", "ok") in _actions(world, "user.add")


def test_a_single_sign_on_user_gets_no_password(world):
    admin = _person(world, "ade.admin")
    r = _post(admin, "/admin", "/admin/users", username="kit@council.example", role="manager", signin="sso")
    assert r.status_code == 201 and "secret" not in r.text and "single sign-on only" in r.text
    with world.db.session() as s:
        assert s.scalar(select(User).where(User.username == "kit@council.example")).role == "manager"


def test_a_bad_new_user_is_refused_at_the_field_with_what_was_typed_kept(world):
    admin = _person(world, "ade.admin")
    r = _post(admin, "/admin", "/admin/users", username="x", role="manager", signin="password")
    assert r.status_code == 422 and "3 to 80 characters" in r.text and 'href="#username"' in r.text
    assert 'value="x"' in r.text and '<option value="manager" selected>' in r.text
    r = _post(admin, "/admin", "/admin/users", username="sam.worker", role="practitioner", signin="password")
    assert r.status_code == 409 and "already a user called sam.worker" in r.text


@pytest.mark.parametrize("who", ["sam.worker", "nia.manager"])
def test_only_admins_reach_administration_and_a_try_is_audited(world, who):
    c = _person(world, who)
    for url in ("/admin", "/admin/teams", "/admin/access", f"/admin/users/{_uid(world, 'sam.worker')}"):
        assert c.get(url).status_code == 403
    r = c.post("/admin/users", data={"csrf": _csrf(c.get("/account").text), "username": "sneaky.one",
                                     "role": "admin", "signin": "password"})
    assert r.status_code == 403
    assert _uid(world, "sneaky.one") is None
    assert ("user.create", who, "denied") in _actions(world, "user.create")
    assert "/admin" not in c.get("/account").text.split("<main")[0]  # no link to it either


def test_another_teams_user_is_out_of_reach(world):
    admin = _person(world, "ade.admin")
    south = _uid(world, "ola.south")
    assert admin.get(f"/admin/users/{south}").status_code == 404
    for action, data in (("role", {"role": "admin"}), ("active", {"active": "no"}), ("password", {}), ("unlock", {}),
                         ("team", {"team": "North Team"}), ("tokens", {"name": "x"})):
        assert _post(admin, "/admin", f"/admin/users/{south}/{action}", **data).status_code == 404, action
    assert _login_status(world, "ola.south", PASSWORD) == 303  # untouched
    assert all(o == "denied" for _, _, o in _actions(world, "user.role", "user.deactivate", "user.password_reset"))


def test_roles_change_but_a_team_always_keeps_an_administrator(world):
    admin = _person(world, "ade.admin")
    me, sam = _uid(world, "ade.admin"), _uid(world, "sam.worker")
    r = _post(admin, "/admin", f"/admin/users/{sam}/role", role="manager")
    assert r.status_code == 303 and r.headers["location"] == f"/admin/users/{sam}?done=role"
    assert "The role was changed." in admin.get(r.headers["location"]).text
    r = _post(admin, "/admin", f"/admin/users/{me}/role", role="practitioner")
    assert r.status_code == 409 and "only active administrator" in r.text
    r = _post(admin, "/admin", f"/admin/users/{me}/active", active="no")
    assert r.status_code == 409 and "cannot deactivate yourself" in r.text
    r = _post(admin, "/admin", f"/admin/users/{me}/team", team="South Team")
    assert r.status_code == 409
    with world.db.session() as s:
        assert s.get(User, me).role == "admin" and s.get(User, sam).role == "manager"
    assert ("user.role", "ade.admin", "ok") in _actions(world, "user.role")


def test_a_deactivated_user_is_signed_out_and_their_token_stops_working(world):
    sam = _person(world, "sam.worker")
    assert sam.get("/cases").status_code == 200
    admin = _person(world, "ade.admin")
    r = _post(admin, "/admin", f"/admin/users/{_uid(world, 'sam.worker')}/active", active="no")
    assert r.status_code == 303
    assert sam.get("/cases", follow_redirects=False).status_code == 303  # to the login page
    assert world.get("worker", "/api/cases").status_code == 401
    assert _login_status(world, "sam.worker", PASSWORD) == 401
    _post(admin, "/admin", f"/admin/users/{_uid(world, 'sam.worker')}/active", active="yes")
    assert world.get("worker", "/api/cases").status_code == 200
    assert [a for a, _, _ in _actions(world, "user.deactivate", "user.activate")] == ["user.deactivate", "user.activate"]


def test_a_password_reset_is_shown_once_and_ends_the_old_one_and_its_sessions(world):
    sam = _person(world, "sam.worker")
    admin = _person(world, "ade.admin")
    r = _post(admin, "/admin", f"/admin/users/{_uid(world, 'sam.worker')}/password")
    assert r.status_code == 200
    password = _secret(r.text)
    assert sam.get("/cases", follow_redirects=False).status_code == 303
    assert _login_status(world, "sam.worker", PASSWORD) == 401
    assert _login_status(world, "sam.worker", password) == 303


def test_a_locked_account_is_unlocked_by_an_admin(world):
    for _ in range(5):
        assert _login_status(world, "sam.worker", "not the password") == 401
    assert _login_status(world, "sam.worker", PASSWORD) == 429
    admin = _person(world, "ade.admin")
    assert "Locked" in admin.get("/admin").text
    r = _post(admin, "/admin", f"/admin/users/{_uid(world, 'sam.worker')}/unlock")
    assert r.status_code == 303
    assert _login_status(world, "sam.worker", PASSWORD) == 303
    assert ("user.unlock", "ade.admin", "ok") in _actions(world, "user.unlock")


def test_teams_are_added_once_and_a_user_moved_to_one(world):
    admin = _person(world, "ade.admin")
    r = _post(admin, "/admin/teams", "/admin/teams", name="  East   Team ")
    assert r.status_code == 303 and "East Team" in admin.get("/admin/teams").text
    r = _post(admin, "/admin/teams", "/admin/teams", name="east team")
    assert r.status_code == 409 and 'value="east team"' in r.text
    sam = _person(world, "sam.worker")
    r = _post(admin, "/admin", f"/admin/users/{_uid(world, 'sam.worker')}/team", team="East Team")
    assert r.status_code == 200 and "now in East Team" in r.text
    assert sam.get("/cases", follow_redirects=False).status_code == 303  # signed out: what they see changed
    assert admin.get(f"/admin/users/{_uid(world, 'sam.worker')}").status_code == 404  # out of reach now
    assert world.get("worker", "/api/me").json()["team"] == "East Team"


def test_an_admin_makes_a_token_for_a_user_and_revokes_it_from_the_access_page(world):
    admin = _person(world, "ade.admin")
    sam = _uid(world, "sam.worker")
    r = _post(admin, "/admin", f"/admin/users/{sam}/tokens", name="case system link", days="30")
    assert r.status_code == 201
    token = _secret(r.text)
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "sam.worker"
    page = admin.get("/admin/access").text
    assert "case system link" in page and "ola.south" not in page
    token_id = _token_id(page, "case system link")
    r = _post(admin, "/admin/access", f"/tokens/{token_id}/revoke", back="access")
    assert r.status_code == 303 and r.headers["location"] == "/admin/access?done=revoked"
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = _post(admin, "/admin", f"/admin/users/{sam}/tokens", name="too long", days="a week")
    assert r.status_code == 422 and "whole number of days" in r.text


def test_an_admin_ends_a_team_members_session_but_not_another_teams(world):
    sam, south = _person(world, "sam.worker"), _person(world, "ola.south")
    admin = _person(world, "ade.admin")
    page = admin.get("/admin/access").text
    assert "sam.worker" in page and "ola.south" not in page
    sam_page = admin.get(f"/admin/users/{_uid(world, 'sam.worker')}").text
    session = re.search(r'name="id" value="([0-9a-f]{64})"', sam_page).group(1)
    r = _post(admin, "/admin/access", "/sessions/end", id=session, back="access")
    assert r.status_code == 303 and sam.get("/cases", follow_redirects=False).status_code == 303
    south_session = re.search(r'name="id" value="([0-9a-f]{64})"', south.get("/account").text).group(1)
    assert _post(admin, "/admin/access", "/sessions/end", id=south_session).status_code == 404
    assert south.get("/cases").status_code == 200
    assert ("session.end", "ade.admin", "denied") in _actions(world, "session.end")


def test_ones_own_password_changes_and_other_sessions_end(world):
    elsewhere, here = _person(world, "sam.worker"), _person(world, "sam.worker")
    r = _post(here, "/account", "/account/password", current="not it at all", new="a newer long password",
              again="a newer long password")
    assert r.status_code == 403 and "current password is not right" in r.text
    r = _post(here, "/account", "/account/password", current=PASSWORD, new="a newer long password",
              again="another long password")
    assert r.status_code == 422 and "not the same" in r.text
    r = _post(here, "/account", "/account/password", current=PASSWORD, new="short", again="short")
    assert r.status_code == 422 and "at least 12" in r.text
    r = _post(here, "/account", "/account/password", current=PASSWORD, new="a newer long password",
              again="a newer long password")
    assert r.status_code == 303 and "Your password was changed" in here.get(r.headers["location"]).text
    assert elsewhere.get("/cases", follow_redirects=False).status_code == 303  # that session ended
    assert _login_status(world, "sam.worker", "a newer long password") == 303
    assert [o for _, _, o in _actions(world, "password.change")] == ["denied", "ok"]


def test_ones_own_tokens_and_sessions(world):
    sam = _person(world, "sam.worker")
    r = _post(sam, "/account", "/account/tokens", name="my script", days="never")
    assert r.status_code == 201
    token = _secret(r.text)
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = sam.get("/account").text
    assert "my script" in page and "never" in page and "This session" in page
    token_id = _token_id(page, "my script")
    assert _post(sam, "/account", f"/tokens/{token_id}/revoke").status_code == 303
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # another's token is not found, and not revoked
    nia = _person(world, "nia.manager")
    mine = _token_id(nia.get("/account").text, "tests")
    assert _post(sam, "/account", f"/tokens/{mine}/revoke").status_code == 404
    assert world.get("manager", "/api/me").status_code == 200
    # ending this session is logging out
    this = re.search(r'name="id" value="([0-9a-f]{64})"', sam.get("/account").text).group(1)
    r = _post(sam, "/account", "/sessions/end", id=this)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert sam.get("/account", follow_redirects=False).status_code == 303


def test_every_change_refuses_a_forged_form(world):
    admin = _person(world, "ade.admin")
    sam = _uid(world, "sam.worker")
    for action, data in (("/admin/users", {"username": "forged.user", "role": "admin"}),
                         (f"/admin/users/{sam}/role", {"role": "admin"}), (f"/admin/users/{sam}/active", {"active": "no"}),
                         (f"/admin/users/{sam}/password", {}), ("/admin/teams", {"name": "Forged"}),
                         ("/account/password", {"current": PASSWORD, "new": "x" * 20, "again": "x" * 20}),
                         ("/account/tokens", {"name": "forged"})):
        assert admin.post(action, data={"csrf": "forged", **data}).status_code == 403, action
    with world.db.session() as s:
        assert s.get(User, sam).role == "practitioner" and s.get(User, sam).active
    assert _uid(world, "forged.user") is None and _login_status(world, "ade.admin", PASSWORD) == 303


def test_times_on_the_pages_are_uk_time():
    from datetime import datetime, timezone

    from service.dates import uk_moment

    assert uk_moment(datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc)) == "02/07/2026 00:30"  # BST
    assert uk_moment(datetime(2026, 12, 1, 23, 30)) == "01/12/2026 23:30"  # GMT; naive is UTC
    assert uk_moment("2026-07-01T08:05:00Z") == "01/07/2026 09:05" and uk_moment(None) == ""


def test_a_browser_gets_error_pages_and_the_api_keeps_json(world):
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = world.client.get("/no/such/page", headers=html)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "There is no page at this address." in r.text and "<h1>There is a problem</h1>" in r.text
    r = world.client.get("/api/no/such/thing", headers=html)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    admin = _person(world, "ade.admin")
    r = admin.post("/admin/users", data={"csrf": _csrf(admin.get("/admin").text), "username": "x" * 81,
                                         "role": "admin"}, headers=html)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "username" in r.text and "Go back" in r.text and "Administration" in r.text  # signed-in page
    assert world.client.get("/no/such/page").json()["error"]["code"] == "not_found"  # not asking for HTML
