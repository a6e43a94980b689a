"""Shared fixtures: one migrated database with the demo world, per-role clients.

The database is SQLite by default; set TEST_DATABASE_URL to run everything on PostgreSQL.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from config import TestConfig

PROVINCE_ID = "420106198001010015"
HEALTH_ID = "420102198503150020"
WH_HEALTH_ID = "420111199208080040"
EDU_ID = "42010219900601003X"
HOSPITAL_ID = "420106197512120051"
BASE_ID = "420502198807070064"
PASSWORDS = {PROVINCE_ID: "Hubei@2026"}
DEMO_PASSWORD = "Demo@2026"
USER_TYPES = {
    PROVINCE_ID: "supervisory", HEALTH_ID: "supervisory", WH_HEALTH_ID: "supervisory",
    EDU_ID: "supervisory", HOSPITAL_ID: "employer", BASE_ID: "training_base",
}


def password_of(id_number: str) -> str:
    return PASSWORDS.get(id_number, DEMO_PASSWORD)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def _reset_schema(db) -> None:
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        from flask_appbuilder import Model

        import app.models  # noqa: F401

        Model.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def make_config(url: str, **overrides):
    from config import database_url

    return type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url(url), **overrides})


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def storage_root(tmp_path_factory):
    """The file store of the suite's app: a temporary folder, never instance/."""
    return str(tmp_path_factory.mktemp("files"))


@pytest.fixture(scope="session")
def app(database_url, storage_root):
    from app import create_app
    from app.cli import prepare_database
    from app.extensions import db

    application = create_app(make_config(database_url, STORAGE_ROOT=storage_root))
    with application.app_context():
        _reset_schema(db)
        db.session.remove()
        prepare_database(seed_demo_data=True)
    yield application
    _maintained_tables_agree_with_a_recomputation(application)


def _maintained_tables_agree_with_a_recomputation(application) -> None:
    """After the whole suite: the credit summaries and the statistics aggregates still equal a
    recomputation from the raw rows (every change a test made went through the maintaining paths)."""
    from app.extensions import db
    from app.services.credit import summary
    from app.services.statistics import aggregates

    with application.app_context():
        db.session.rollback()
        credit, statistics = summary.differences(limit=10), aggregates.differences(limit=10)
        db.session.remove()
    assert credit == [] and statistics == [], f"credit summaries: {credit}; statistics aggregates: {statistics}"


@pytest.fixture()
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture()
def fresh_world(app):
    """For tests that change data: rebuild the demo world afterwards."""
    yield app
    from app.demo import seed_demo
    from app.extensions import db

    with app.app_context():
        db.session.rollback()
        seed_demo(reset=True)


def login(client, id_number: str, password: str | None = None, user_type: str | None = None):
    return client.post(
        "/login/",
        data={
            "user_type": user_type or USER_TYPES.get(id_number, "supervisory"),
            "username": id_number,
            "password": password or password_of(id_number),
        },
        follow_redirects=False,
    )


def first_sign_in(client, id_number: str, password: str, user_type: str | None = None):
    """Sign in with a password someone else chose (a new admin, a reset) and replace it, as the app
    requires before anything else; the new password is the same text, so tests can keep using it."""
    response = login(client, id_number, password, user_type)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    changed = client.post("/resetmypassword/form", data={
        "old_password": password, "password": password, "conf_password": password})
    assert changed.status_code == 302, changed.get_data(as_text=True)[-1500:]
    return response


@pytest.fixture()
def client_for(app):
    """A logged-in test client per demo account: client_for(HEALTH_ID)."""

    def make(id_number: str):
        client = app.test_client()
        response = login(client, id_number)
        assert response.status_code == 302, response.data[:500]
        assert "/login" not in response.headers["Location"]
        return client

    return make


def api_token(client, id_number: str, password: str | None = None) -> str:
    response = client.post(
        "/api/v1/security/login",
        json={"username": id_number, "password": password or password_of(id_number), "provider": "db"},
    )
    assert response.status_code == 200, response.json
    return response.json["access_token"]


@pytest.fixture()
def api_for(app):
    """Headers with a JWT for a demo account."""

    def make(id_number: str):
        client = app.test_client()
        return {"Authorization": f"Bearer {api_token(client, id_number)}"}

    return make


def org_id(name: str) -> int:
    from app.extensions import db
    from app.models import Organisation

    return db.session.query(Organisation.id).filter(Organisation.name == name).scalar()
