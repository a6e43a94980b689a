"""Generator steps for 培训计划管理, 人员调转 and 年度工作材料报送 (issue 11), registered after the persons.

At 1,000,000 persons (the counts scale with N, with small floors): about 2,000 annual plans and 2,000
annual summaries (one row per base and year, the latest year mostly pending), 20,000 programme
declarations of bases and units, 10,000 transfers of which 500 pending — every pending one goes to a unit
below the mid-level department, so its admin confirms them in the benchmark — and 300 work materials of
the supervisory departments (the latest year pending). Each row comes with its audit rows (submitted,
decided), as the services would have written them.
"""
from __future__ import annotations

import datetime
from typing import Optional

from sqlalchemy import select

from app.scale.generate import (
    AUDIT_COLUMNS,
    BASE_TIME,
    GenerationContext,
    OrgRow,
    Step,
    _ts,
    register_step,
)

LATEST_YEAR = BASE_TIME.year
#: (share at 1M persons) per table
AT_A_MILLION = {"plans": 2_000, "programmes": 20_000, "summaries": 2_000, "transfers": 10_000,
                "pending_transfers": 500, "materials": 300}
REVIEW_TAIL = ["status", "submitted_by_id", "submitted_on", "reviewed_by_id", "reviewed_on", "reject_reason"]
PLAN_TITLES = ["{year}年度{sector}继续教育培训计划", "{year}年度专业技术人员知识更新培训计划"]
PROGRAMME_NAMES = {
    "public": ["职业道德与法律法规", "专业技术人员创新能力建设", "心理健康与压力管理", "信息安全与保密常识",
               "习近平新时代中国特色社会主义思想专题", "乡村振兴政策解读"],
    "professional": ["新技术新方法专题研修", "岗位技能提升培训班", "学科前沿进展学术讲座", "骨干人员高级研修班",
                     "标准规范解读与应用", "典型案例分析研讨班", "实践技能操作培训"],
}
REASONS = ["工作需要", "个人申请调动", "人才引进", "家庭原因调动", "组织调配"]
REJECT_REASONS = ["材料不完整，请补充后重新提交", "学时安排不合理", "内容与年度计划不符", "本单位暂无编制，无法接收"]


def scaled(ctx: GenerationContext, key: str, floor: int) -> int:
    return max(floor, round(AT_A_MILLION[key] * ctx.persons_total / 1_000_000))


class Rows:
    """Rows of one table plus their audit rows, with ids handed out in order."""

    def __init__(self, ctx: GenerationContext, table: str, object_type: str):
        self.ctx, self.table, self.object_type = ctx, table, object_type
        self.next_id = ctx.loader.next_id(table)
        self.rows: list[tuple] = []
        self.audits: list[tuple] = []

    def add(self, values: tuple, path: str, status: str, submitter: Optional[int], submitted: datetime.datetime,
            reviewer: Optional[int], reviewed: Optional[datetime.datetime], reason: Optional[str]) -> int:
        pk = self.next_id
        self.next_id += 1
        decided = reviewed is not None and status != "withdrawn"   # a withdrawal is no decision
        self.rows.append((pk, *values, status, submitter, _ts(submitted), reviewer if decided else None,
                          _ts(reviewed) if decided else None, reason))
        self.audits.append((submitter, "submit", pk, path, None, "pending", submitted))
        if status != "pending":
            action = {"approved": "approve", "rejected": "reject", "withdrawn": "withdraw"}[status]
            actor = submitter if status == "withdrawn" else reviewer
            self.audits.append((actor, action, pk, path, "pending", status, reviewed))
        return pk

    def load(self, columns: list[str]) -> int:
        loader = self.ctx.loader
        count = loader.insert(self.table, ["id", *columns, *REVIEW_TAIL], self.rows)
        audit_id = loader.next_id("audit_log")
        loader.insert("audit_log", AUDIT_COLUMNS, (
            (audit_id + i, actor, action, self.object_type, pk, path, from_state, to_state, None, _ts(when))
            for i, (actor, action, pk, path, from_state, to_state, when) in enumerate(self.audits)))
        return count


def _state(rng, latest: bool) -> str:
    r = rng.random()
    if latest:
        return "pending" if r < 0.6 else "approved" if r < 0.9 else "rejected"
    return "approved" if r < 0.9 else "rejected" if r < 0.95 else "withdrawn"


def _decision(rng, status: str, submitted: datetime.datetime, reviewer: Optional[int]):
    if status == "pending":
        return None, None, None
    reviewed = submitted + datetime.timedelta(days=rng.randint(1, 20), seconds=rng.randrange(86400))
    reason = rng.choice(REJECT_REASONS) if status == "rejected" else None
    return (None if status == "withdrawn" else reviewer), reviewed, reason


def _bases(ctx: GenerationContext) -> list[OrgRow]:
    """Approved training bases, those below the mid-level department first (its lists are measured)."""
    bases = [o for o in ctx.orgs if o.type == "training_base" and o.status == "approved"]
    return sorted(bases, key=lambda o: (not o.path.startswith(ctx.mid_org.path), o.id))


def _reviewer(ctx: GenerationContext, org: OrgRow) -> Optional[int]:
    """The admin of the department above an organisation (who decides its submissions)."""
    return ctx.admin_of_org.get(org.parent_id)


def step_plans_and_summaries(ctx: GenerationContext) -> None:
    """年度培训计划 and 年度工作总结: one row per base and year, newest years first."""
    bases = _bases(ctx)
    if not bases:
        return
    for table, key, latest in (("training_plan", "plans", LATEST_YEAR), ("work_summary", "summaries", LATEST_YEAR - 1)):
        rng = ctx.rng(f"{table}")
        rows = Rows(ctx, table, table)
        for i in range(scaled(ctx, key, 20)):
            base = bases[i % len(bases)]
            year = latest - i // len(bases)
            status = _state(rng, year == latest)
            submitted = datetime.datetime(year if table == "training_plan" else year + 1, 1, 10) - datetime.timedelta(
                days=rng.randrange(60), seconds=rng.randrange(86400))
            submitted = min(submitted, BASE_TIME - datetime.timedelta(days=1))
            reviewer, reviewed, reason = _decision(rng, status, submitted, _reviewer(ctx, base))
            if table == "training_plan":
                values = (base.id, year, PLAN_TITLES[i % 2].format(year=year, sector=base.name[:6]),
                          f"{year}年计划举办各类培训班，面向本系统专业技术人员。", rng.randint(4, 40), rng.randint(200, 4000))
            else:
                values = (base.id, year, f"{year}年度共举办培训班，学员满意度较高。", rng.randint(4, 40),
                          rng.randint(200, 5000), rng.randint(4000, 200_000))
            rows.add(values, base.path, status, ctx.admin_of_org.get(base.id), submitted, reviewer, reviewed, reason)
        columns = (["org_id", "year", "title", "content", "planned_programmes", "planned_hours"]
                   if table == "training_plan" else ["org_id", "year", "text", "classes_held", "trainees",
                                                     "hours_delivered"])
        ctx.echo(f"  {table}: {rows.load(columns)}")


def step_programmes(ctx: GenerationContext) -> None:
    """培训计划申报: mostly by bases, a fifth by employer units for their own staff; codes PX<year><id>."""
    bases = _bases(ctx)
    units = [o for o in ctx.orgs if o.type == "employer" and o.status == "approved"]
    if not bases:
        return
    rng = ctx.rng("training_programme")
    rows = Rows(ctx, "training_programme", "training_programme")
    for i in range(scaled(ctx, "programmes", 50)):
        org = bases[i % len(bases)] if rng.random() < 0.8 or not units else units[int(rng.random() * len(units))]
        year = LATEST_YEAR - (0 if rng.random() < 0.5 else 1 if rng.random() < 0.6 else 2)
        start = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(330))
        end = start + datetime.timedelta(days=rng.randint(0, 30))
        kind = "public" if rng.random() < 0.3 else "professional"
        mode = "online" if rng.random() < 0.4 else "offline"
        status = _state(rng, year == LATEST_YEAR)
        submitted = datetime.datetime.combine(start, datetime.time(9)) - datetime.timedelta(days=rng.randint(10, 60))
        submitted = min(submitted, BASE_TIME - datetime.timedelta(hours=1))
        reviewer, reviewed, reason = _decision(rng, status, submitted, _reviewer(ctx, org))
        pk = rows.next_id
        values = (f"PX{year}{pk:06d}", org.id, year, f"{org.name[:8]}{rng.choice(PROGRAMME_NAMES[kind])}", kind, mode,
                  start.isoformat(), end.isoformat(), rng.choice([8, 12, 16, 24, 32, 40, 60]), rng.randint(20, 500),
                  "湖北省专业技术人员继续教育平台" if mode == "online" else f"{org.name}培训教室",
                  rng.choice([0, 0, 30000, 50000, 80000]), None)
        rows.add(values, org.path, status, ctx.admin_of_org.get(org.id), submitted, reviewer, reviewed, reason)
    ctx.echo(f"  training_programme: {rows.load(['code', 'org_id', 'year', 'name', 'subject_kind', 'mode', 'start_date', 'end_date', 'hours', 'planned_trainees', 'venue', 'fee_fen', 'description'])}")


TRANSFER_COLUMNS = ["person_id", "from_org_id", "to_org_id", "to_department_id", "reason", "effective_date",
                    "person_name", "id_number", "gender", "birth_date", "education", "title_series_id",
                    "title_level_id", "title_name"]


def step_transfers(ctx: GenerationContext) -> None:
    """人员调转: past ones (confirmed into the person's current unit, or rejected / withdrawn) and pending ones
    out of the person's unit into a unit below the mid-level department."""
    from app.models import Person

    table = ctx.persons
    active = [i for i in range(table.count) if table.status[i] == 0]
    units = [o for o in ctx.orgs if o.type == "employer" and o.status == "approved"]
    mid_units = [o for o in units if o.path.startswith(ctx.mid_org.path)]
    if len(active) < 10 or len(units) < 2 or not mid_units:
        return
    rng = ctx.rng("transfer")
    total = min(scaled(ctx, "transfers", 100), len(active))
    pending = min(scaled(ctx, "pending_transfers", 20), total // 2)
    chosen = rng.sample(active, total)
    person_ids = [table.first_id + i for i in chosen]
    snapshot = {}
    for start in range(0, len(person_ids), 5000):
        for row in ctx.loader.session.execute(
                select(Person.id, Person.name, Person.id_number, Person.gender, Person.birth_date, Person.education,
                       Person.title_series_id, Person.title_level_id, Person.title_name)
                .where(Person.id.in_(person_ids[start:start + 5000]))):
            snapshot[row.id] = row
    rows = Rows(ctx, "transfer", "transfer")
    for n, (index, person_id) in enumerate(zip(chosen, person_ids)):
        person = snapshot[person_id]
        current = ctx.org_by_id[table.employer_id[index]]
        if n < pending:
            status, source = "pending", current
            target = mid_units[int(rng.random() * len(mid_units))]
            if target.id == current.id:
                target = mid_units[(mid_units.index(target) + 1) % len(mid_units)]
            if target.id == current.id:
                continue
        else:
            status = "approved" if rng.random() < 0.8 else "rejected" if rng.random() < 0.6 else "withdrawn"
            other = units[int(rng.random() * len(units))]
            if other.id == current.id:
                other = units[(units.index(other) + 1) % len(units)]
            source, target = (other, current) if status == "approved" else (current, other)
        submitted = BASE_TIME - datetime.timedelta(days=rng.randrange(3 if status == "pending" else 30, 900),
                                                   seconds=rng.randrange(86400))
        reviewer, reviewed, reason = _decision(rng, status, submitted, ctx.admin_of_org.get(target.id))
        values = (person_id, source.id, target.id, None, rng.choice(REASONS),
                  (submitted + datetime.timedelta(days=rng.randint(0, 30))).date().isoformat(), person.name,
                  person.id_number, _value(person.gender), _iso(person.birth_date), _value(person.education),
                  person.title_series_id, person.title_level_id, person.title_name)
        rows.add(values, target.path, status, ctx.admin_of_org.get(source.id), submitted, reviewer, reviewed, reason)
    ctx.echo(f"  transfer: {rows.load(TRANSFER_COLUMNS)} ({pending} pending into {ctx.mid_org.name}'s units)")


def _value(member):
    return getattr(member, "value", member)


def _iso(day):
    return day.isoformat() if day is not None else None


def step_work_materials(ctx: GenerationContext) -> None:
    """年度工作材料: each department reports for the latest years (the latest pending), parents decide."""
    departments = [o for o in ctx.orgs if o.type == "supervisory" and o.status == "approved"]
    departments.sort(key=lambda o: (not (o.path.startswith(ctx.mid_org.path) and o.id != ctx.mid_org.id), o.id))
    if not departments:
        return
    rng = ctx.rng("work_material")
    rows = Rows(ctx, "work_material", "work_material")
    for i in range(scaled(ctx, "materials", 30)):
        dept = departments[i % len(departments)]
        year = LATEST_YEAR - i // len(departments)
        status = _state(rng, year == LATEST_YEAR)
        submitted = min(datetime.datetime(year, 12, 1) + datetime.timedelta(days=rng.randrange(30)),
                        BASE_TIME - datetime.timedelta(hours=2))
        reviewer, reviewed, reason = _decision(rng, status, submitted, _reviewer(ctx, dept))
        title = f"{year}年度{dept.name}继续教育" + ("学习指南" if i % 2 else "工作通知")
        rows.add((dept.id, year, title, None), dept.path, status, ctx.admin_of_org.get(dept.id), submitted,
                 reviewer, reviewed, reason)
    ctx.echo(f"  work_material: {rows.load(['org_id', 'year', 'title', 'remarks'])}")


def register() -> None:
    register_step(Step("plans_and_summaries", step_plans_and_summaries), after="changes")
    register_step(Step("programmes", step_programmes), after="plans_and_summaries")
    register_step(Step("transfers", step_transfers), after="programmes")
    register_step(Step("work_materials", step_work_materials), after="transfers")
