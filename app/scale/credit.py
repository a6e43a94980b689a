"""Generator step for credit hours (issue 12): requirements, standards, ~5 records per person, summaries.

For the two latest years (``LATEST_YEAR - 1`` and ``LATEST_YEAR``) every active person gets a year of
learning: about half of the person-years are *qualified* (two professional programmes of 32+ hours and a
public one: 90+ hours, 60+ professional), the others *short* (one to three smaller programmes, conversion
standards or self-declared activities). Records refer to approved programmes (a base's for anyone, a unit's
for its own staff only), standards (quantity × hours per unit, within the yearly cap) or free text, declared
by the base, the unit (代报) or the person, through the form, Excel or the interface. About 3 % are pending
(mostly in the latest year), 2 % rejected. Loaded by COPY, then the summaries are computed in SQL from the
records (``summary.rebuild_all``). Audit rows of the generated records are not generated (5M × 2 rows).
"""
from __future__ import annotations

import datetime
import time
from collections import defaultdict

from sqlalchemy import text

from app.scale.generate import BASE_TIME, GenerationContext, Step, _ts, register_step

LATEST_YEAR = BASE_TIME.year
YEARS = (LATEST_YEAR - 1, LATEST_YEAR)
#: the last completion date generated (records are declared after it, before "today")
LAST_DAY = datetime.date(LATEST_YEAR, 11, 30)
#: share of person-years meeting the rule, per year
QUALIFIED = {LATEST_YEAR - 1: 0.7, LATEST_YEAR: 0.45}
#: share of pending and rejected records, per year
PENDING = {LATEST_YEAR - 1: 0.004, LATEST_YEAR: 0.055}
REJECTED = 0.02
STANDARDS = [  # code, name, unit, hours per unit, yearly cap, subject kind, mode
    ("GEN-LW", "公开发表学术论文", "篇", 10, 30, "professional", "offline"),
    ("GEN-ZZ", "出版专著或译著", "部", 30, 60, "professional", "offline"),
    ("GEN-HY", "参加学术会议", "天", 8, 24, "professional", "offline"),
    ("GEN-JX", "进修学习", "月", 20, 40, "professional", "offline"),
    ("GEN-KT", "承担科研课题", "项", 15, 30, "professional", "offline"),
    ("GEN-JZ", "公需科目专题讲座", "次", 4, 12, "public", "offline"),
]
FREE_TEXT = ["院内业务学习", "科室病例讨论", "岗位技能练兵", "线上专题学习", "师带徒跟班学习"]
RECORD_COLUMNS = ["id", "person_id", "employer_id", "org_path", "year", "subject_kind", "mode", "programme_id",
                  "standard_id", "quantity", "activity", "activity_key", "hours", "completed_on", "provider_id",
                  "declarer_type", "declarer_org_id", "channel", "status", "submitted_by_id", "submitted_on",
                  "reviewed_by_id", "reviewed_on", "reject_reason"]


def _ensure_settings(ctx: GenerationContext) -> list:
    """Requirements of both years and the standards (kept when the database has them already)."""
    session = ctx.loader.session
    postgres = ctx.loader.is_postgresql
    ignore = "ON CONFLICT DO NOTHING" if postgres else ""
    verb = "INSERT" if postgres else "INSERT OR IGNORE"
    false = "false" if postgres else "0"
    for year in YEARS:
        session.execute(text(
            f"{verb} INTO credit_requirement (year, total_hours, professional_numerator, professional_denominator,"
            f" closed) VALUES (:y, 90, 2, 3, {false}) {ignore}"), {"y": year})
    for code, name, unit, per, cap, kind, mode in STANDARDS:
        session.execute(text(
            f"{verb} INTO credit_standard (code, name, unit, hours_per_unit, yearly_cap, subject_kind, mode, "
            f"first_year, last_year) VALUES (:c, :n, :u, :p, :cap, :k, :m, 2020, NULL) {ignore}"),
            {"c": code, "n": name, "u": unit, "p": per, "cap": cap, "k": kind, "m": mode})
    return [tuple(r) for r in session.execute(text(
        "SELECT id, name, hours_per_unit, yearly_cap, subject_kind, mode, first_year, last_year "
        "FROM credit_standard ORDER BY id"))]


def _programmes(ctx: GenerationContext):
    """Approved programmes of the two years: the bases' by (kind, size), the units' by unit."""
    rows = ctx.loader.session.execute(text(
        "SELECT p.id, p.org_id, p.name, p.subject_kind, p.mode, p.start_date, p.end_date, p.hours, o.type "
        "FROM training_programme p JOIN organisation o ON o.id = p.org_id "
        "WHERE p.status = 'approved' AND p.year IN (:a, :b) ORDER BY p.id"), {"a": YEARS[0], "b": YEARS[1]})
    by_base = defaultdict(list)     # (year, kind, big) -> programmes
    by_unit = defaultdict(list)     # (year, unit id) -> programmes
    for pid, org_id, name, kind, mode, start, end, hours, org_type in rows:
        start = start if isinstance(start, datetime.date) else datetime.date.fromisoformat(str(start))
        end = end if isinstance(end, datetime.date) else datetime.date.fromisoformat(str(end))
        end = min(end, LAST_DAY)
        if start > end:
            continue
        programme = (pid, org_id, name[:200], kind, mode, start, (end - start).days, hours)
        if org_type == "training_base":
            by_base[(start.year, kind, hours >= 32)].append(programme)
        else:
            by_unit[(start.year, org_id)].append(programme)
    return by_base, by_unit


def step_credit(ctx: GenerationContext) -> None:
    from app.services.credit import summary

    standards = _ensure_settings(ctx)
    by_base, by_unit = _programmes(ctx)
    table = ctx.persons
    rng = ctx.rng("credit_record")
    r = rng.random
    next_id = ctx.loader.next_id("credit_record")
    counter = [next_id]
    usable_standards = {y: [s for s in standards if s[6] <= y and (s[7] is None or y <= s[7])] for y in YEARS}

    def pick(year, kind, big):
        options = by_base.get((year, kind, big)) or by_base.get((year, kind, not big)) or []
        return options[int(r() * len(options))] if options else None

    def rows():
        for index in range(table.count):
            if table.status[index] != 0:
                continue
            person_id = table.first_id + index
            employer = ctx.org_by_id[table.employer_id[index]]
            reviewer = ctx.admin_of_org.get(employer.parent_id)
            unit_admin = ctx.admin_of_org.get(employer.id)
            for year in YEARS:
                plan = []   # (source, item)
                if r() < QUALIFIED[year]:
                    plan += [("p", pick(year, "professional", True)), ("p", pick(year, "professional", True)),
                             ("p", pick(year, "public", False))]
                    if r() < 0.3:
                        plan.append(("s", None))
                else:
                    for _ in range(1 + int(r() * 3)):
                        x = r()
                        if x < 0.5:
                            plan.append(("p", pick(year, "professional" if r() < 0.6 else "public", False)))
                        elif x < 0.62 and by_unit.get((year, employer.id)):
                            options = by_unit[(year, employer.id)]
                            plan.append(("u", options[int(r() * len(options))]))
                        elif x < 0.9:
                            plan.append(("s", None))
                        else:
                            plan.append(("t", None))
                keys = set()
                for source, item in plan:
                    if source in ("p", "u"):
                        if item is None:
                            continue
                        pid, org_id, name, kind, mode, start, span, hours = item
                        key = f"P{pid}"
                        day = start + datetime.timedelta(days=int(r() * (span + 1)))
                        quantity = standard_id = None
                        activity = name
                        if source == "p":
                            provider, declarer, declarer_org = org_id, "training_base", org_id
                            submitter = ctx.admin_of_org.get(org_id)
                            channel = "api" if r() < 0.6 else "excel" if r() < 0.75 else "form"
                        else:
                            provider, declarer, declarer_org, submitter = None, "employer", org_id, unit_admin
                            channel = "excel" if r() < 0.5 else "form"
                        programme_id = pid
                    else:
                        programme_id = provider = None
                        day = datetime.date(year, 1, 1) + datetime.timedelta(
                            days=int(r() * ((LAST_DAY if year == LATEST_YEAR else datetime.date(year, 12, 31))
                                            - datetime.date(year, 1, 1)).days))
                        if source == "s" and usable_standards[year]:
                            sid, sname, per, cap, kind, mode, _first, _last = usable_standards[year][
                                int(r() * len(usable_standards[year]))]
                            standard_id, quantity, hours = sid, 1, per
                            activity, key = sname, f"S{sid}:"
                            if any(k.startswith(key) for k in keys):
                                continue
                        else:
                            standard_id = quantity = None
                            text_ = FREE_TEXT[int(r() * len(FREE_TEXT))]
                            kind = "professional" if r() < 0.7 else "public"
                            mode = "offline" if r() < 0.7 else "online"
                            hours = (4, 6, 8, 12)[int(r() * 4)]
                            activity, key = text_, f"T:{text_}"
                        if r() < 0.5 and source == "s":
                            declarer, declarer_org, submitter, channel = "employer", employer.id, unit_admin, "form"
                        else:
                            declarer, declarer_org, submitter, channel = "person", None, None, "form"
                    if key in keys:
                        continue
                    keys.add(key)
                    x = r()
                    status = "pending" if x < PENDING[year] else "rejected" if x < PENDING[year] + REJECTED else "approved"
                    submitted = datetime.datetime.combine(day, datetime.time(9)) + datetime.timedelta(
                        days=int(r() * 10), seconds=int(r() * 30000))
                    reviewed = None if status == "pending" else submitted + datetime.timedelta(days=1 + int(r() * 15))
                    pk = counter[0]
                    counter[0] += 1
                    yield (pk, person_id, employer.id, employer.path, year, kind, mode, programme_id, standard_id,
                           quantity, activity, key, hours, day.isoformat(), provider, declarer, declarer_org,
                           channel, status, submitter, _ts(submitted), reviewer if reviewed else None,
                           _ts(reviewed) if reviewed else None, "证明材料不全" if status == "rejected" else None)

    started = time.perf_counter()
    session = ctx.loader.session
    indexes, foreign_keys = [], []
    if ctx.loader.is_postgresql:
        # Build the secondary indexes once after COPY, not row by row, and check the foreign keys once
        # (ADD CONSTRAINT validates with one join per key): with the keys in place, COPY queues one
        # after-trigger event per row and key (8 keys x 5M rows: ~650 MB of backend memory) and then runs
        # 40M single-row lookups at the end of the statement, which took longer than the rest of the
        # generation together — the 1M load looked stuck there and was killed (docs/benchmark.md).
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        indexes = [tuple(r) for r in session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'credit_record' "
            "AND indexname <> 'credit_record_pkey'"))]
        foreign_keys = [tuple(r) for r in session.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'credit_record'::regclass AND contype = 'f' ORDER BY conname"))]
        for name, _definition in foreign_keys:
            session.execute(text(f'ALTER TABLE credit_record DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            session.execute(text(f'DROP INDEX "{name}"'))
    count = ctx.loader.insert("credit_record", RECORD_COLUMNS, rows())
    copied = time.perf_counter()
    for _name, definition in indexes:
        session.execute(text(definition))
    for name, definition in foreign_keys:
        session.execute(text(f'ALTER TABLE credit_record ADD CONSTRAINT "{name}" {definition}'))
    loaded = time.perf_counter()
    ctx.echo(f"  credit_record: {count:,} ({loaded - started:.1f} s: COPY {copied - started:.1f} s, indexes and "
             f"keys {loaded - copied:.1f} s; {(loaded - started) * 1_000_000 / max(count, 1):.1f} s per million)")
    summaries = summary.rebuild_all()
    ctx.loader.filled.add("credit_summary")
    ctx.echo(f"  credit_summary: {summaries:,} ({time.perf_counter() - loaded:.1f} s, computed in SQL)")


def register() -> None:
    register_step(Step("credit", step_credit), after="work_materials")

