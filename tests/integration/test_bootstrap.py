"""First install (issue 9 item 7) and quiet tooling (item 8), on an empty database of their own."""
from __future__ import annotations

import logging

import pytest

from tests.conftest import login, make_config

PROVINCE = "测试省人力资源和社会保障厅"
ADMIN_ID = "420106198001010015"
PASSWORD = "Prov2026x"


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """A fresh app on its own empty SQLite file, prepared without the demo world."""
    from app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('bootstrap') / 'empty.db'}"
    application = create_app(make_config(url))
    result = application.test_cli_runner().invoke(args=["prepare", "--no-demo"])
    assert result.exit_code == 0, result.output
    return application


def _create(app, *extra, password=PASSWORD, input=None):
    env = {"PROVINCE_ADMIN_PASSWORD": password} if password is not None else {}
    args = ["create-province", "--name", PROVINCE, "--id-number", ADMIN_ID, "--admin-name", "张省管", *extra]
    return app.test_cli_runner().invoke(args=args, env=env, input=input)


def _counts(app):
    from app.extensions import db
    from app.models import Account, Organisation

    with app.app_context():
        return db.session.query(Organisation).count(), db.session.query(Account).count()


@pytest.mark.parametrize("extra, password, message", [
    (["--id-number", "420106198001010016"], PASSWORD, "校验位"),      # GB 11643 checksum
    ([], "abcdefgh", "密码"),                                          # too weak
    (["--uscc", "12420100MB7654321Z"], PASSWORD, "统一社会信用代码"),
    (["--phone", "12345"], PASSWORD, "手机"),
])
def test_bad_input_is_refused_and_creates_nothing(empty_app, extra, password, message):
    result = _create(empty_app, *extra, password=password)
    assert result.exit_code != 0 and message in result.output, result.output
    assert _counts(empty_app) == (0, 0)


def test_prepare_then_create_province_gives_a_working_empty_system(empty_app):
    assert _counts(empty_app) == (0, 0)
    # the password may be typed (twice, hidden) instead of read from the environment
    result = _create(empty_app, "--region", "测试省", password=None, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PROVINCE in result.output and "主管部门" in result.output
    assert _counts(empty_app) == (1, 1)

    client = empty_app.test_client()
    response = login(client, ADMIN_ID, PASSWORD, "supervisory")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    home = client.get("/").get_data(as_text=True)
    assert PROVINCE in home and "系统管理" in home and "账户管理" in home
    assert client.get("/organisations/list/").status_code == 200
    assert client.get("/orgadmins/list/").status_code == 200

    from app.extensions import db
    from app.models import Account, AuditLog, Organisation

    with empty_app.app_context():
        org = db.session.query(Organisation).one()
        admin = db.session.query(Account).one()
        assert (org.type.value, org.status.value, org.path, org.depth) == ("province", "approved", f"/{org.id}/", 0)
        assert admin.is_super_admin and admin.active and [r.name for r in admin.roles] == ["省级管理员"]
        assert {row.action for row in db.session.query(AuditLog)} == {"create", "register_admin"}

    # a second run is refused and changes nothing
    again = _create(empty_app)
    assert again.exit_code != 0 and "省级机构已存在" in again.output
    assert _counts(empty_app) == (1, 1)


def test_sync_roles_on_a_database_in_sync_says_nothing_alarming(empty_app, caplog):
    runner = empty_app.test_cli_runner()
    with caplog.at_level(logging.INFO):
        first = runner.invoke(args=["sync-roles"])
        second = runner.invoke(args=["sync-roles"])
    assert first.exit_code == second.exit_code == 0
    assert first.output == second.output
    assert second.output.splitlines()[0].startswith("省级管理员：") and "项权限" in second.output
    assert "Refused" not in second.output
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
