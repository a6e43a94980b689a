"""Login by ID number and user type, lockout, password change (manual 2-4)."""
from __future__ import annotations

import datetime

from tests.conftest import BASE_ID, HEALTH_ID, HOSPITAL_ID, api_token, login


def _account(id_number):
    from app.models import Account

    return Account.query.filter_by(username=id_number).one() if hasattr(Account, "query") else None


def _get_account(app, id_number):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        return db.session.query(Account).filter(Account.username == id_number).one()


def test_login_with_matching_type_reaches_home(app):
    client = app.test_client()
    response = login(client, HEALTH_ID)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "湖北省卫生健康委员会" in page


def test_login_refuses_wrong_user_type(app):
    client = app.test_client()
    response = login(client, HOSPITAL_ID, user_type="supervisory", )
    assert "/login" in response.headers["Location"]
    page = client.get("/login/").get_data(as_text=True)
    assert "用户类型" in page and "不符" in page


def test_login_accepts_lowercase_x_in_id_number(app):
    client = app.test_client()
    response = login(client, "42010219900601003x", password="Demo@2026", user_type="supervisory")
    assert "/login" not in response.headers["Location"]


def test_five_failures_lock_the_account_on_web_and_api(app, fresh_world):
    client = app.test_client()
    for _ in range(5):
        login(client, BASE_ID, password="Wrong@2026")
    account = _get_account(app, BASE_ID)
    assert account.locked_until is not None and account.locked_until > datetime.datetime.now()
    # the right password is refused while locked, on the web and on the API
    response = login(client, BASE_ID)
    assert "/login" in response.headers["Location"]
    assert "锁定" in client.get("/login/").get_data(as_text=True)
    api = client.post("/api/v1/security/login",
                      json={"username": BASE_ID, "password": "Demo@2026", "provider": "db"})
    assert api.status_code == 401


def test_api_login_failures_count_towards_lockout(app, fresh_world):
    client = app.test_client()
    for _ in range(5):
        r = client.post("/api/v1/security/login",
                        json={"username": BASE_ID, "password": "bad-pass1", "provider": "db"})
        assert r.status_code == 401
    assert _get_account(app, BASE_ID).locked_until is not None
    assert "/login" in login(client, BASE_ID).headers["Location"]


def test_lock_expires_after_the_lock_period(app, fresh_world):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        account = db.session.query(Account).filter(Account.username == BASE_ID).one()
        account.locked_until = datetime.datetime.now() - datetime.timedelta(minutes=1)
        db.session.commit()
    client = app.test_client()
    assert "/login" not in login(client, BASE_ID).headers["Location"]


def test_change_password_requires_the_old_password(app, fresh_world, client_for):
    client = client_for(HEALTH_ID)
    page = client.post("/resetmypassword/form", data={
        "old_password": "Wrong@1234", "password": "NewPass2026", "conf_password": "NewPass2026",
    }).get_data(as_text=True)
    assert "原密码不正确" in page
    assert login(app.test_client(), HEALTH_ID).status_code == 302  # old password still works
    response = client.post("/resetmypassword/form", data={
        "old_password": "Demo@2026", "password": "NewPass2026", "conf_password": "NewPass2026",
    })
    assert response.status_code == 302
    fresh = app.test_client()
    assert "/login" in login(fresh, HEALTH_ID).headers["Location"]
    assert "/login" not in login(fresh, HEALTH_ID, password="NewPass2026").headers["Location"]


def test_change_password_rejects_weak_password(app, client_for):
    client = client_for(HEALTH_ID)
    page = client.post("/resetmypassword/form", data={
        "old_password": "Demo@2026", "password": "abcdefgh", "conf_password": "abcdefgh",
    }).get_data(as_text=True)
    assert "密码至少8位" in page


def test_logout_returns_to_login(app, client_for):
    client = client_for(HEALTH_ID)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "/login" in client.get("/").headers["Location"]


def test_logout_is_a_post_a_link_cannot_sign_anyone_out(app, client_for):
    """Issue 8, finding 8: logout is a POST (with CSRF in production); GET changes nothing."""
    client = client_for(HEALTH_ID)
    assert client.get("/logout/").status_code == 405
    assert client.get("/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert 'id="logout-form"' in page and 'method="post"' in page


def test_disabled_account_cannot_log_in_on_web_or_api(app, fresh_world):
    from app.extensions import db
    from app.models import Account

    with app.app_context():
        account = db.session.query(Account).filter(Account.username == HOSPITAL_ID).one()
        account.active = False
        db.session.commit()
    client = app.test_client()
    assert "/login" in login(client, HOSPITAL_ID).headers["Location"]
    r = client.post("/api/v1/security/login",
                    json={"username": HOSPITAL_ID, "password": "Demo@2026", "provider": "db"})
    assert r.status_code == 401


def test_api_login_returns_jwt_for_id_number(app):
    assert api_token(app.test_client(), HEALTH_ID)
