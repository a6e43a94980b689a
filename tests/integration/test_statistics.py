"""继教综合统计查询: every column's definition on a hand-built world, the aggregates kept through person changes
and summary refreshes, stats-check / stats-rebuild."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import delete, select, update

YEAR = 2031

# expected figures, in FIGURES order: employers, bases, persons, learners (total, online, offline),
# public (total, online, offline), professional (total, online, offline), approved learners,
# approved records, qualified
SUB = [1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 1, 1, 2, 3, 0]
DIRECT = [1, 0, 2, 2, 1, 2, 2, 1, 1, 1, 0, 1, 1, 2, 1]
TOTAL = [2, 1, 4, 4, 3, 3, 3, 2, 2, 3, 1, 2, 3, 5, 1]


def _org(name, type_, parent, status="approved"):
    from app.extensions import db
    from app.models import Organisation, OrganisationStatus, OrganisationType

    org = Organisation(name=name, type=OrganisationType(type_), status=OrganisationStatus(status))
    db.session.add(org)
    db.session.flush()
    org.place_under(parent)
    db.session.flush()
    return org


def _person(seq, employer, series=None, status="active"):
    from app.extensions import db
    from app.models import Gender, Person, PersonStatus
    from app.validators import make_id_number

    birth = datetime.date(1990, 1, 1) + datetime.timedelta(days=seq)
    person = Person(id_number=make_id_number("420106", birth, 900 + seq), name=f"统计{seq}", gender=Gender.male,
                    birth_date=birth, employer_id=employer.id, title_series_id=series,
                    status=PersonStatus(status))
    db.session.add(person)
    db.session.flush()
    return person


def _record(person, kind, mode, hours, status, key, year=YEAR):
    from app.models import CreditDeclarer, CreditRecord, LearningMode, ReviewStatus, SubjectKind

    return CreditRecord(person_id=person.id, employer_id=person.employer_id, org_path=person.org_path, year=year,
                        subject_kind=SubjectKind(kind), mode=LearningMode(mode), activity=key, activity_key=key,
                        hours=hours, completed_on=datetime.date(year, 3, 1), declarer_type=CreditDeclarer.person,
                        status=ReviewStatus(status))


@pytest.fixture()
def world(app, fresh_world):
    """Department A (under the province) with sub-department A1; unit E1 attached to A directly; unit E2, base B1
    and a pending unit E3 under A1. Persons and 2031 records as the expected figures above say."""
    from app.extensions import db
    from app.models import CreditRequirement, Organisation, OrganisationType, TitleSeries
    from app.services.credit import summary
    from app.services.transaction import transaction

    with app.app_context():
        province = db.session.scalar(select(Organisation).where(Organisation.type == OrganisationType.province))
        s1, s2 = db.session.scalars(select(TitleSeries.id).order_by(TitleSeries.sort_order, TitleSeries.id).limit(2))
        with transaction():
            a = _org("统计测试主管部门", "supervisory", province)
            a1 = _org("统计测试下级部门", "supervisory", a)
            e1 = _org("统计测试直属单位", "employer", a)
            e2 = _org("统计测试单位二", "employer", a1)
            _org("统计测试基地", "training_base", a1)
            _org("统计测试待审单位", "employer", a1, status="pending")
            p1, p2, _p3 = _person(1, e1, s1), _person(2, e1, s2), _person(3, e1, s1, status="pending")
            p4, p5, p6 = _person(4, e2, s1), _person(5, e2, None), _person(6, e2, s1, status="left")
            db.session.merge(CreditRequirement(year=YEAR, total_hours=90, professional_numerator=2,
                                               professional_denominator=3))
            db.session.add_all([
                _record(p1, "public", "online", 30, "approved", "T:1a"),
                _record(p1, "professional", "offline", 60, "approved", "T:1b"),
                _record(p1, "public", "online", 90, "approved", "T:1c", year=YEAR - 1),
                _record(p2, "public", "offline", 10, "pending", "T:2a"),
                _record(p4, "professional", "online", 20, "approved", "T:4a"),
                _record(p4, "public", "offline", 20, "rejected", "T:4b"),
                _record(p5, "public", "online", 10, "approved", "T:5a"),
                _record(p5, "public", "offline", 10, "approved", "T:5b"),
                _record(p5, "professional", "offline", 5, "pending", "T:5c"),
            ])
            db.session.flush()
            summary.refresh([(p.id, y) for p in (p1, p2, p4, p5, p6) for y in (YEAR - 1, YEAR)])
        yield {"a": a.id, "a1": a1.id, "e1": e1.id, "e2": e2.id, "p4": p4.id, "p5": p5.id, "s1": s1, "s2": s2,
               "prefix": a.path}


def _scope(world):
    from app.scope import Scope

    return Scope("subtree", prefix=world["prefix"], org_id=world["a"])


def _figures(row):
    from app.services.statistics.comprehensive import FIGURES

    return [row.figures[name] for name in FIGURES]


def test_every_column_follows_its_definition(app, world):
    from app.services.statistics import aggregates
    from app.services.statistics.comprehensive import comprehensive

    with app.app_context():
        table = comprehensive(_scope(world), YEAR)
        rows = {r.key: r for r in table.rows}
        assert [r.label for r in table.rows] == ["统计测试下级部门", "本级直属单位"]
        assert _figures(rows[f"o{world['a1']}"]) == SUB
        assert rows[f"o{world['a1']}"].rate_text == "0.00%"
        assert rows[f"o{world['a1']}"].drill_org_id == world["a1"]
        assert _figures(rows["direct"]) == DIRECT and rows["direct"].rate_text == "50.00%"
        assert _figures(table.total) == TOTAL and table.total.rate_text == "25.00%"
        # another year counts only its own records
        previous = comprehensive(_scope(world), YEAR - 1)
        assert previous.total.figures["learners"] == 1 and previous.total.figures["approved_records"] == 1
        assert previous.total.figures["persons"] == 4
        # drill-down: A1's table, one level down, with the breadcrumb back
        down = comprehensive(_scope(world), YEAR, world["a1"])
        assert [r.key for r in down.rows] == ["direct"] and _figures(down.total) == SUB
        assert [name for _id, name in down.breadcrumb] == ["统计测试主管部门", "统计测试下级部门"]
        # by title series
        series = {r.key: r for r in comprehensive(_scope(world), YEAR, by_series=True).rows}
        s1 = series[f"s{world['s1']}"].figures
        assert (s1["persons"], s1["employers"], s1["bases"], s1["learners"], s1["qualified"]) == (2, 2, None, 2, 1)
        assert series[f"s{world['s2']}"].figures["persons"] == 1
        assert series["s0"].figures["persons"] == 1 and series["s0"].figures["approved_records"] == 2
        assert aggregates.differences() == []


def test_aggregates_follow_person_changes_and_refreshes(app, world):
    from app.extensions import db
    from app.models import CreditRecord, Person, PersonStatus, ReviewStatus
    from app.services import placement
    from app.services.credit import summary
    from app.services.statistics import aggregates
    from app.services.statistics.comprehensive import comprehensive
    from app.services.transaction import transaction

    with app.app_context():
        # a person moves to the directly attached unit (set-based UPDATE): persons and learning follow
        with transaction():
            placement.move_persons([world["p4"]], world["e1"])
        table = comprehensive(_scope(world), YEAR)
        rows = {r.key: r for r in table.rows}
        assert rows["direct"].figures["persons"] == 3 and rows[f"o{world['a1']}"].figures["persons"] == 1
        assert rows["direct"].figures["professional_online_learners"] == 1
        assert rows[f"o{world['a1']}"].figures["professional_online_learners"] == 0
        assert aggregates.differences() == []
        # a title change moves the person between series; leaving drops them from the persons
        with transaction():
            db.session.execute(update(Person).where(Person.id == world["p5"]).values(title_series_id=world["s2"]))
        with transaction():
            db.session.execute(update(Person).where(Person.id == world["p4"]).values(status=PersonStatus.left))
        assert aggregates.differences() == []
        assert comprehensive(_scope(world), YEAR).total.figures["persons"] == 3
        # a decision refreshes the summaries: the hook recomputes the unit's year
        with transaction():
            db.session.execute(update(CreditRecord).where(CreditRecord.activity_key == "T:5c")
                               .values(status=ReviewStatus.approved))
            summary.refresh([(world["p5"], YEAR)])
        total = comprehensive(_scope(world), YEAR).total.figures
        assert total["approved_records"] == 6 and aggregates.differences() == []
        # a person deleted after their records and summaries (no refresh in between): the unit forgets them
        from app.models import CreditSummary

        with transaction():
            db.session.execute(delete(CreditRecord).where(CreditRecord.person_id == world["p5"]))
            db.session.execute(delete(CreditSummary).where(CreditSummary.person_id == world["p5"]))
            db.session.execute(delete(Person).where(Person.id == world["p5"]))
        total = comprehensive(_scope(world), YEAR).total.figures
        assert total["approved_records"] == 3 and total["persons"] == 2
        assert aggregates.differences() == []


def test_stats_check_finds_tampering_and_rebuild_repairs(app, world):
    from app.extensions import db
    from app.models_statistics import StatUnitCredit
    from app.services.transaction import transaction

    with app.app_context():
        runner = app.test_cli_runner()
        assert runner.invoke(args=["stats-check"]).exit_code == 0
        with transaction():
            db.session.execute(update(StatUnitCredit).where(StatUnitCredit.org_id == world["e1"])
                               .values(learners=StatUnitCredit.learners + 7))
        result = runner.invoke(args=["stats-check"])
        assert result.exit_code == 1 and "stat_unit_credit" in result.output
        assert runner.invoke(args=["stats-rebuild"]).exit_code == 0
        assert runner.invoke(args=["stats-check"]).exit_code == 0


def test_bad_input_is_refused(app, world):
    from app.errors import AppError, NotFound
    from app.services.statistics.comprehensive import comprehensive
    from app.extensions import db
    from app.models import Organisation

    with app.app_context():
        for year in ("abc", "1999", "2101", "20 31"):
            with pytest.raises(AppError) as caught:
                comprehensive(_scope(world), year)
            assert caught.value.status_code == 400
        outside = db.session.scalar(select(Organisation.id).where(~Organisation.path.like(world["prefix"] + "%"),
                                                                  Organisation.parent_id.isnot(None)))
        for org in ("x", "-1", "99999999999", str(outside), str(world["e1"])):
            with pytest.raises(NotFound):
                comprehensive(_scope(world), YEAR, org)
