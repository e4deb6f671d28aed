"""Single sign-on against a real OpenID Connect provider process (oidc-provider-mock, started
here on a private port): the whole authorization code flow with PKCE, users matched by their
claim or given a team and role by their groups, refusals, replays, and sign-out.

The provider runs on ``localhost`` and the service on ``127.0.0.1``: two sites, as a council's
provider and its service are."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service import records
from service.records.sso import Provider
from service.settings import Settings
from service.store.models import AuditEntry, SignIn, User
from tests.web.conftest import make_world, provider_knows, sso_settings


@pytest.fixture
def make(database_url, issuer):
    made = []

    def build(**settings):
        settings.setdefault("sso", sso_settings(issuer))
        w = make_world(database_url, **settings)
        w.client.__enter__()
        made.append(w)
        return w

    yield build
    for w in made:
        w.client.__exit__(None, None, None)
        w.app.state.jobs.stop()
        w.db.dispose()


def _sign_in(w, issuer: str, sub: str, next_path: str = "/cases"):
    """Through the flow as a browser would: to the provider, its form, back to the callback."""
    start = w.client.get("/login/sso", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    assert authorize.startswith(f"{issuer}/")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0] and query["nonce"][0]
    back = httpx.post(authorize, data={"sub": sub}, timeout=10)
    assert back.status_code in (302, 303)
    callback = back.headers["location"]
    assert callback.startswith("http://testserver/login/sso/callback?")
    return w.client.get(callback.replace("http://testserver", ""), follow_redirects=False), callback


def test_a_provisioned_user_signs_in_and_lands_on_the_page_asked_for(make, issuer):
    w = make()
    records.create_user(w.db, "lee.carer@example.org", None, role="practitioner", team="North Team")
    provider_knows(issuer, "sub-lee", email="Lee.Carer@Example.org")  # the claim's case does not matter
    done, _ = _sign_in(w, issuer, "sub-lee", "/cases?q=abc")
    assert done.status_code == 200
    assert 'content="0;url=/cases?q=abc"' in done.text  # moved on by a page of ours, so the Strict cookie goes
    page = w.client.get("/cases?q=abc")
    assert page.status_code == 200 and "lee.carer@example.org" in page.text
    with w.db.read() as c:
        assert c.execute(select(SignIn)).first() is None  # the sign-in was used up
        entry = c.execute(select(AuditEntry.username, AuditEntry.outcome).where(AuditEntry.action == "login.sso")).one()
    assert tuple(entry) == ("lee.carer@example.org", "ok")


def test_a_person_with_no_user_and_no_mapped_group_is_refused(make, issuer):
    w = make()
    provider_knows(issuer, "sub-stranger", email="stranger@example.org", groups=["some-other-group"])
    done, _ = _sign_in(w, issuer, "sub-stranger")
    assert done.status_code == 403 and "ask your administrator to add you" in done.text
    assert "sdf_session" not in done.cookies
    assert w.client.get("/cases", follow_redirects=False).status_code == 303
    with w.db.read() as c:
        entry = c.execute(select(AuditEntry.outcome, AuditEntry.target).where(AuditEntry.action == "login.sso")).one()
        assert c.execute(select(User).where(User.username == "stranger@example.org")).first() is None
    assert entry.outcome == "denied" and "stranger" not in entry.target  # the claim's value is not logged


def test_groups_give_team_and_role_and_make_the_user_on_first_sign_in(make, issuer):
    groups = {"grp-north-staff": ("North Team", "practitioner"), "grp-managers": ("East Team", "manager")}
    w = make(sso=sso_settings(issuer, groups=groups))
    provider_knows(issuer, "sub-kim", email="kim.new@example.org", groups=["grp-north-staff"])
    done, _ = _sign_in(w, issuer, "sub-kim")
    assert done.status_code == 200
    actor = records.actor_for(w.db, "kim.new@example.org")
    assert (actor.team, actor.role) == ("North Team", "practitioner")
    provider_knows(issuer, "sub-kim", email="kim.new@example.org", groups=["grp-north-staff", "grp-managers"])
    w.client.cookies.clear()
    assert _sign_in(w, issuer, "sub-kim")[0].status_code == 200
    actor = records.actor_for(w.db, "kim.new@example.org")
    assert (actor.team, actor.role) == ("East Team", "manager")  # the highest role of the groups they are in
    with w.db.read() as c:
        changes = c.execute(select(AuditEntry.action).where(AuditEntry.target == f"user:{actor.user_id}")).scalars()
        assert list(changes) == ["user.create", "user.update"]


def test_an_answer_replayed_or_from_another_browser_is_refused(make, issuer):
    w = make()
    records.create_user(w.db, "lee.carer@example.org", None, role="practitioner", team="North Team")
    provider_knows(issuer, "sub-lee", email="lee.carer@example.org")
    done, callback = _sign_in(w, issuer, "sub-lee")
    assert done.status_code == 200
    again = w.client.get(callback.replace("http://testserver", ""), follow_redirects=False)
    assert again.status_code == 403 and "already used" in again.text

    other = TestClient(w.app)  # another browser: none of the first one's cookies
    start = w.client.get("/login/sso", follow_redirects=False)  # begun in one browser...
    back = httpx.post(start.headers["location"], data={"sub": "sub-lee"}, timeout=10)
    stolen = other.get(back.headers["location"].replace("http://testserver", ""), follow_redirects=False)
    assert stolen.status_code == 403  # ...finished in another (no state cookie): refused


def test_a_token_signed_by_another_key_is_refused(database_url, issuer):
    """The ID token is checked against the provider's own keys: one from elsewhere does not pass."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    real = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    forger = RSAKey.generate_key(2048, parameters={"kid": "forged"})
    forged = jwt.encode({"alg": "RS256", "kid": "forged"},
                        {"iss": real["issuer"], "aud": "step-down-forms", "sub": "x", "nonce": "n",
                         "exp": int(time.time()) + 300, "iat": int(time.time())}, forger)
    provider = Provider(sso_settings(issuer))
    try:
        with pytest.raises(records.sso.SignInRefused):
            provider._verified(forged, "n")
    finally:
        provider.close()


def test_passwords_switched_off_leaves_only_single_sign_on(make, issuer):
    w = make(local_passwords=False)
    page = w.client.get("/login")
    assert "Sign in with Test Council" in page.text and 'name="password"' not in page.text
    refused = w.client.post("/login", data={"username": "sam.worker", "password": "a long test password",
                                            "csrf": "x"})
    assert refused.status_code == 403 and "sdf_session" not in refused.cookies


def test_signing_out_ends_the_session(make, issuer):
    w = make()
    records.create_user(w.db, "lee.carer@example.org", None, role="practitioner", team="North Team")
    provider_knows(issuer, "sub-lee", email="lee.carer@example.org")
    _sign_in(w, issuer, "sub-lee")
    page = w.client.get("/cases")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert w.client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert w.client.get("/cases", follow_redirects=False).headers["location"] == "/login?next=%2Fcases"


def test_only_paths_on_this_site_are_returned_to(make, issuer):
    w = make()
    records.create_user(w.db, "lee.carer@example.org", None, role="practitioner", team="North Team")
    provider_knows(issuer, "sub-lee", email="lee.carer@example.org")
    done, _ = _sign_in(w, issuer, "sub-lee", "//evil.example/steal")
    assert 'content="0;url=/"' in done.text


def test_a_user_without_a_password_cannot_log_in_with_one(make):
    w = make()
    records.create_user(w.db, "lee.carer@example.org", None, role="practitioner", team="North Team")
    page = w.client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    for guess in ("!sso", "", "a long test password"):
        answer = w.client.post("/login", data={"username": "lee.carer@example.org", "password": guess or " ",
                                               "csrf": csrf})
        assert answer.status_code == 401


def test_settings_refuse_a_group_map_they_cannot_read():
    from service.errors import SettingsError

    env = {"STEPDOWN_OIDC_ISSUER": "https://login.example.org/tenant/v2.0", "STEPDOWN_OIDC_CLIENT_ID": "abc"}
    assert Settings.from_env({**env, "STEPDOWN_OIDC_GROUPS": "g1=North Team:manager"}).sso.groups == {
        "g1": ("North Team", "manager")}
    for bad in ("g1=North Team", "g1=North Team:boss", "=North:admin"):
        with pytest.raises(SettingsError):
            Settings.from_env({**env, "STEPDOWN_OIDC_GROUPS": bad})
    with pytest.raises(SettingsError):
        Settings.from_env({"STEPDOWN_LOCAL_PASSWORDS": "0"})  # nobody could log in
