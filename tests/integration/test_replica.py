"""Reports on a replica (DATABASE_REPLICA_URL): exports read the replica, writes and the rest the primary.

The "replica" is a second database holding a copy of the primary in which one person is renamed: an
export showing the new name read the replica, a page showing the old name read the primary.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from tests.conftest import PROVINCE_ID
from tests.support.xlsx import read_rows

REPLICA_ONLY = "副本中的名字"


def _copy_database(source: sa.engine.Engine, target: sa.engine.Engine) -> None:
    """Every table's rows, parents first (on PostgreSQL without firing foreign-key triggers)."""
    from flask_appbuilder import Model

    import app.models  # noqa: F401

    Model.metadata.create_all(target)
    with source.connect() as read, target.begin() as write:
        if target.dialect.name == "postgresql":
            write.execute(sa.text("SET session_replication_role = replica"))
        for table in Model.metadata.sorted_tables:
            rows = [dict(r) for r in read.execute(select(table)).mappings()]
            if rows:
                write.execute(table.insert(), rows)


@pytest.fixture()
def replica(app, tmp_path):
    """A second database, filled from the primary, configured as the app's replica; removed afterwards."""
    from app.extensions import db
    from app.replica import configure

    with app.app_context():
        primary = db.engine
        if primary.dialect.name == "postgresql":
            name = f"{primary.url.database}_replica"
            with primary.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = primary.url.set(database=name).render_as_string(hide_password=False)
        else:
            name, url = None, "sqlite:///" + str(tmp_path / "replica.db")
        target = sa.create_engine(url)
        _copy_database(primary, target)
        target.dispose()
    configure(app, url)
    try:
        yield sa.create_engine(url)
    finally:
        configure(app, None)
        if name:
            with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _rename_in_replica(engine) -> tuple[int, str]:
    from app.models import Person

    with engine.begin() as conn:
        pk, old = conn.execute(select(Person.id, Person.name).order_by(Person.id).limit(1)).one()
        conn.execute(update(Person).where(Person.id == pk).values(name=REPLICA_ONLY))
    engine.dispose()
    return pk, old


def test_an_export_reads_the_replica(app, replica, client_for):
    pk, old = _rename_in_replica(replica)
    client = client_for(PROVINCE_ID)
    response = client.get("/persons/export/")
    assert response.status_code == 200
    names = {row[0] for row in read_rows(response.data)[1:]}
    assert REPLICA_ONLY in names and old not in names                 # the rows came from the replica
    page = client.get(f"/persons/show/{pk}").get_data(as_text=True)
    assert old in page and REPLICA_ONLY not in page                   # pages read the primary


def test_writes_and_reads_after_them_stay_on_the_primary(app, replica):
    from app.extensions import db
    from app.models import Person
    from app.replica import on_replica, reading_replica
    from app.services.transaction import transaction

    pk, old = _rename_in_replica(replica)
    with app.app_context():
        with on_replica() as session:
            assert reading_replica(session)
            assert session.scalar(select(Person.name).where(Person.id == pk)) == REPLICA_ONLY
            with transaction():
                session.execute(update(Person).where(Person.id == pk).values(name="主库新名"))
                assert not reading_replica(session)                   # read-your-own-writes: the primary
                assert session.scalar(select(Person.name).where(Person.id == pk)) == "主库新名"
            assert reading_replica(session)                           # the write committed: reads may go back
        assert db.session.scalar(select(Person.name).where(Person.id == pk)) == "主库新名"
        with transaction():
            db.session.execute(update(Person).where(Person.id == pk).values(name=old))
        with replica.connect() as conn:                               # the replica never saw a write
            assert conn.scalar(select(Person.name).where(Person.id == pk)) == REPLICA_ONLY
        replica.dispose()


def test_without_a_replica_on_replica_reads_the_primary(app):
    from app.models import Person
    from app.replica import on_replica, reading_replica, replica_engine

    with app.app_context():
        assert replica_engine() is None
        with on_replica() as session:
            assert not reading_replica(session)
            assert session.scalar(select(sa.func.count()).select_from(Person)) > 0


def test_on_replica_decorates_statistics_functions(app, replica):
    """The hook the statistics pages use: a decorated read-only function reads the replica."""
    from app.extensions import db
    from app.models import Person
    from app.replica import on_replica

    pk, _old = _rename_in_replica(replica)

    @on_replica()
    def name_of(person_id):
        return db.session.scalar(select(Person.name).where(Person.id == person_id))

    with app.app_context():
        assert name_of(pk) == REPLICA_ONLY
        assert db.session.scalar(select(Person.name).where(Person.id == pk)) != REPLICA_ONLY
