"""Migrations build the schema from zero and agree with the models; database-enforced rules."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError


def test_models_and_migrations_agree(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_appbuilder import Model

    from app.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Model.metadata)
    assert diff == []


def test_upgrade_builds_an_empty_database_from_zero(tmp_path, database_url):
    """`flask db upgrade` on a new SQLite file (PostgreSQL is built the same way by the app fixture)."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from app import create_app
    from app.extensions import db
    from tests.conftest import make_config

    application = create_app(make_config(f"sqlite:///{tmp_path / 'zero.db'}"))
    with application.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
    assert {"organisation", "person", "ab_user", "audit_log", "title_series", "alembic_version"} <= tables


def test_at_most_one_super_admin_per_organisation_is_enforced_by_the_database(app_ctx):
    from app.extensions import db
    from app.models import Account, Organisation

    org = db.session.query(Organisation).filter_by(name="湖北省教育厅").one()
    other = Account(username="x1", first_name="x", last_name="", email="x1@accounts.invalid",
                    organisation=org, is_super_admin=True)
    db.session.add(other)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_reference_data_has_27_series_and_five_levels(app_ctx):
    from app.extensions import db
    from app.models import TitleLevel, TitleSeries

    assert db.session.query(TitleSeries).count() == 27
    assert [lvl.name for lvl in db.session.query(TitleLevel).order_by(TitleLevel.sort_order)] == [
        "正高级", "副高级", "中级", "助理级", "员级"]


def test_demo_world_matches_the_design(app_ctx):
    from app.extensions import db
    from app.models import Account, Organisation, Person
    from app.validators import validate_id_number

    def org(name):
        return db.session.query(Organisation).filter_by(name=name).one()

    assert org("武汉市卫生健康委员会").parent.name == "湖北省卫生健康委员会"
    assert org("湖北省人民医院").parent.name == "湖北省卫生健康委员会"
    assert org("湖北省卫生人才继续教育基地").type.value == "training_base"
    assert any(o.type.value == "employer" for o in org("武汉市卫生健康委员会").children)
    assert any(o.type.value == "employer" for o in org("湖北省教育厅").children)
    persons = db.session.query(Person).all()
    assert len(persons) >= 200
    for person in persons:
        validate_id_number(person.id_number)
    assert len({p.title_series_id for p in persons}) >= 5
    assert len({p.title_level_id for p in persons}) == 5
    assert db.session.query(Account).filter(Account.is_super_admin.is_(True)).count() >= 6


def test_every_path_ends_with_slash_and_extends_its_parent(app_ctx):
    from app.extensions import db
    from app.models import Organisation

    for org in db.session.query(Organisation):
        assert org.path.endswith(f"/{org.id}/")
        if org.parent is not None:
            assert org.path == f"{org.parent.path}{org.id}/"
            assert org.depth == org.parent.depth + 1


def test_start_up_prints_the_demo_accounts_with_a_warning(app_ctx):
    from app.demo import print_demo_accounts

    lines: list[str] = []
    print_demo_accounts(lines.append)
    text = "\n".join(lines)
    assert "仅供演示" in text and "420106198001010015" in text and "Hubei@2026" in text
    assert "主管部门" in text
