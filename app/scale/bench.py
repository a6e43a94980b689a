"""``flask bench``: server-side time and SQL statements of the pages that matter at scale.

Runs in-process with ``app.test_client()`` on a second app built from the same database URL with CSRF
and rate limits off (``BenchConfig``), logged in as the two admins ``seed-scale`` created: the
province admin and the mid-level department admin (about 10 % of the persons in scope). Every case
has warm-up runs, then ``--runs`` measured runs (median, min, max, p90) and the SQL statements of each
request (``before_cursor_execute`` on the engine). A plain Flask-AppBuilder ModelView of the same model
(``PlainPersonView``, ``PlainReviewView``) is registered in the same app and measured in the same run,
so the ratio holds on any machine. With ``--wrk`` it also serves the database with gunicorn (2 workers)
on 127.0.0.1 and runs ``wrk -t2 -c8`` on the person list, ours and plain.

For every case one extra profiled run records the slowest statements; with ``--explain`` (PostgreSQL)
the slowest SELECT of each case over its target is run again under EXPLAIN (ANALYZE, BUFFERS).
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Callable, Optional

from flask import g, redirect
from flask_appbuilder import ModelView
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import event, select, text, update

from app.scale.bench_stats import STATS_TARGETS
from app.services.transaction import commit as transaction_commit
from config import Config

PROJECT_DIR = Path(__file__).resolve().parents[2]

#: issue 5's targets at 1M persons: case -> (median ms, statements)
TARGETS = {
    "person list p1 (mid)": (40, 8),
    "person list p1000 (mid)": (60, None),
    "person list p1 (province)": (60, None),
    "name prefix search (mid)": (60, None),
    "name prefix search (province)": (60, None),
    "batch approval 1000 (decide)": (150, None),
    # issue 11: every new review list as the mid-level admin, the transfer batch, the two transfer pickers
    **{f"review list {key} p1 (mid)": (40, 8) for key in (
        "training_plan", "training_programme", "work_summary", "transfer", "work_material")},
    "batch confirmation 500 transfers (decide)": (300, None),
    "transfer person picker (mid)": (10, None),
    "receiving unit search (mid)": (10, None),
    # issue 13: 电子证书 (app/scale/certificates.py)
    "certificate verification page": (20, 2),
    "certificate PDF one (mid)": (200, None),
    "certificates 1,000 in one PDF (job)": (30_000, None),
    "certificate list p1 (mid)": (60, None),
    # issue 13: 查询统计 (title-series distribution, personnel information query)
    "title distribution (mid)": (100, None),
    "title distribution (province)": (100, None),
    "person query p1 (mid)": (40, None),
    "person query p1 (province)": (40, None),
    "export person query 2025 (mid, job)": (3000, None),
}
# issue 13: 继教综合统计查询 (app/scale/bench_stats.py)
TARGETS.update(STATS_TARGETS)
#: the review lists of issue 11 (measured page 1 as the mid-level admin)
PLAN_REVIEW_LISTS = ("training_plan", "training_programme", "work_summary", "transfer", "work_material")
FORM_TARGET_MS = 40
THROUGHPUT_TARGET = 60.0


class BenchConfig(Config):
    """The product's configuration without CSRF and rate limits (the test client posts forms)."""

    #: sessions live only inside this process: no need for the instance key file
    SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    DEMO_DATA = False


# ---------------------------------------------------------------------------------------------------
# The plain Flask-AppBuilder baseline: what the same model gets "the usual way"
# ---------------------------------------------------------------------------------------------------

def _plain_views():
    from app.models import AuditLog, Person, PersonStatus, ReviewRequest, ReviewStatus
    from app.roles import READ_WRITE

    class PlainPersonView(ModelView):
        """A plain FAB ModelView over Person: SQLAInterface, no scope, default dropdowns."""

        route_base = "/plainpersons"
        datamodel = SQLAInterface(Person)
        class_permission_name = "Person"
        method_permission_name = READ_WRITE
        page_size = 20
        base_order = ("id", "asc")
        list_columns = ["name", "id_number", "gender", "employer", "title_series", "title_level", "status"]
        show_columns = ["name", "id_number", "gender", "birth_date", "phone", "education", "employer",
                        "internal_department", "title_series", "title_level", "title_name", "title_date",
                        "status", "created_on"]
        add_columns = ["id_number", "name", "phone", "education", "employer", "internal_department",
                       "title_series", "title_level", "title_name", "title_date"]
        edit_columns = ["name", "phone", "education", "employer", "internal_department", "title_series",
                        "title_level", "title_name", "title_date", "status"]
        search_columns = ["name", "id_number", "employer", "title_series", "title_level", "status"]

    class PlainReviewView(ModelView):
        """A plain FAB ModelView over the requests, approving with a FAB action and an ORM loop."""

        route_base = "/plainreviews"
        datamodel = SQLAInterface(ReviewRequest)
        class_permission_name = "RegistrationReview"
        method_permission_name = {**READ_WRITE, "approve": "write"}
        list_columns = ["subject_name", "subject_code", "organisation", "status"]

        @action("approve", "Approve", "", "fa-check")
        def approve(self, items):
            from app.extensions import db

            items = items if isinstance(items, list) else [items]
            now = datetime.datetime.now()
            for item in items:
                if item.status != ReviewStatus.pending:
                    continue
                item.status = ReviewStatus.approved
                item.reviewed_by_id = g.user.id
                item.reviewed_on = now
                person = db.session.get(Person, item.subject_id)
                person.status = PersonStatus.active
                if person.account is not None:
                    person.account.active = True
                db.session.add(AuditLog(
                    actor_id=g.user.id, action="approve", object_type="review_request", object_id=item.id,
                    org_path=item.organisation.path, from_state="pending", to_state="approved", created_on=now))
            transaction_commit()  # the plain baseline commits once after its per-row loop
            return redirect(self.get_redirect())

    return PlainPersonView, PlainReviewView


def add_plain_views(app) -> None:
    with app.app_context():
        for view in _plain_views():
            app.appbuilder.add_view_no_menu(view)


def make_bench_app(database_uri: str, storage_root: Optional[str] = None):
    from app import create_app

    settings = {"SQLALCHEMY_DATABASE_URI": database_uri}
    if storage_root:
        settings["STORAGE_ROOT"] = storage_root
    config = type("BenchRunConfig", (BenchConfig,), settings)
    app = create_app(config)
    add_plain_views(app)
    return app


def wsgi_app():
    """gunicorn entry point of the throughput check: the production app plus the plain views."""
    from app import create_app

    app = create_app()
    add_plain_views(app)
    return app


# ---------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------


@dataclass
class BenchOptions:
    runs: int = 7
    warmup: int = 2
    only: Optional[str] = None
    wrk: bool = True
    wrk_duration: int = 10
    batch: int = 1000
    explain: bool = False
    profile: bool = True
    pyprofile: bool = True


class StatementCounter:
    """Counts (and, when profiling, times) every statement the engine sends."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        self.profile: Optional[list] = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.profile is not None:
            conn.info.setdefault("_bench_t0", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.profile is not None:
            started = conn.info["_bench_t0"].pop()
            literal = None
            if not executemany and hasattr(cursor, "mogrify"):
                try:
                    literal = cursor.mogrify(statement, parameters).decode()
                except Exception:  # noqa: BLE001 - best effort
                    literal = None
            self.profile.append({"ms": round((time.perf_counter() - started) * 1000, 2),
                                 "sql": statement, "literal": literal, "executemany": executemany})

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


@dataclass
class CaseResult:
    name: str
    group: str
    url: str
    admin: str
    runs: int = 0
    median_ms: Optional[float] = None
    min_ms: Optional[float] = None
    max_ms: Optional[float] = None
    p90_ms: Optional[float] = None
    statements: Optional[int] = None
    statements_max: Optional[int] = None
    status: Optional[int] = None
    bytes: Optional[int] = None
    plain: Optional[str] = None
    speedup_vs_plain: Optional[float] = None
    target_ms: Optional[float] = None
    target_statements: Optional[int] = None
    met: Optional[bool] = None
    error: Optional[str] = None
    note: Optional[str] = None
    #: time spent in SQL in the profiled run (the rest of the median is Python: views, forms, templates)
    sql_ms: Optional[float] = None
    slowest: list = field(default_factory=list)
    statement_list: list = field(default_factory=list)
    explain: Optional[str] = None
    #: cProfile of one request (cases over target): where the Python time goes
    python_profile: list = field(default_factory=list)
    #: cases that measure memory (files, Excel, jobs): the largest RSS growth of a run, in MB
    peak_extra_mb: Optional[float] = None
    target_mb: Optional[float] = None
    #: median CPU time of this process per run (the same cases; the rest of the wall time is waiting)
    cpu_ms: Optional[float] = None


@dataclass
class Case:
    name: str
    group: str
    admin: str
    url: str
    #: -> (status, bytes) or (status, bytes, elapsed ms of the part the case times itself)
    run: Callable[[], tuple]
    plain: Optional[str] = None
    #: runs after each measured run, untimed (puts the data back)
    reset: Optional[Callable[[], None]] = None
    note: Optional[str] = None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(case: Case, counter: StatementCounter, options: BenchOptions) -> CaseResult:
    result = CaseResult(name=case.name, group=case.group, url=case.url, admin=case.admin, plain=case.plain,
                        note=case.note)
    times, counts, cpu_times = [], [], []
    try:
        for i in range(options.warmup + options.runs):
            counter.count = 0
            started = time.perf_counter()
            outcome = case.run()
            elapsed = (time.perf_counter() - started) * 1000
            statements = counter.count
            status, size = outcome[0], outcome[1]
            if len(outcome) > 2:
                elapsed = outcome[2]  # the case timed its own core (e.g. decide() without the request setup)
            if len(outcome) > 3 and outcome[3].get("peak_extra_mb") is not None:  # the cold run counts too
                result.peak_extra_mb = max(result.peak_extra_mb or 0.0, outcome[3]["peak_extra_mb"])
            if len(outcome) > 3 and outcome[3].get("cpu_ms") is not None and i >= options.warmup:
                cpu_times.append(outcome[3]["cpu_ms"])
            if case.reset:
                case.reset()
            result.status, result.bytes = status, size
            if status not in (200, 302):
                result.error = f"HTTP {status}"
                break
            if i >= options.warmup:
                times.append(elapsed)
                counts.append(statements)
        if options.profile and result.error is None:
            counter.profile = []
            try:
                case.run()
            finally:
                profile, counter.profile = counter.profile, None
                if case.reset:
                    case.reset()
            result.slowest = sorted(profile, key=lambda s: s["ms"], reverse=True)[:3]
            result.sql_ms = round(sum(s["ms"] for s in profile), 2)
            result.statement_list = [f"{s['ms']:.2f} ms  {' '.join(s['sql'].split())[:160]}" for s in profile]
    except Exception as exc:  # noqa: BLE001 - one broken case must not stop the benchmark
        result.error = f"{type(exc).__name__}: {exc}"
        if case.reset:
            try:
                case.reset()
            except Exception:  # noqa: BLE001
                pass
    if times:
        result.runs = len(times)
        result.median_ms = round(statistics.median(times), 2)
        result.min_ms = round(min(times), 2)
        result.max_ms = round(max(times), 2)
        result.p90_ms = round(_percentile(times, 0.9), 2)
        result.statements = int(statistics.median(counts))
        result.statements_max = max(counts)
    if cpu_times:
        result.cpu_ms = round(statistics.median(cpu_times), 1)
    return result


# ---------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, app, info, options: BenchOptions, echo: Callable[[str], None]):
        from app.extensions import db

        self.app, self.info, self.options, self.echo = app, info, options, echo
        self.db = db
        with app.app_context():
            from app.models import Account

            self.accounts = {
                "mid": db.session.scalar(select(Account.id).where(Account.username == info.mid_admin)),
                "province": db.session.scalar(select(Account.id).where(Account.username == info.province_admin)),
            }
        self.clients = {who: self._login(who, number) for who, number in
                        (("mid", info.mid_admin), ("province", info.province_admin))}

    # ----- helpers ---------------------------------------------------------------------------------
    def _login(self, who: str, id_number: str):
        from app.scale.generate import BENCH_PASSWORD

        client = self.app.test_client()
        response = client.post("/login/", data={"user_type": "supervisory", "username": id_number,
                                                "password": BENCH_PASSWORD})
        if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
            raise RuntimeError(f"the {who} admin {id_number} cannot log in (HTTP {response.status_code})")
        return client

    def get(self, who: str, url: str):
        client = self.clients[who]

        def run():
            response = client.get(url)
            return response.status_code, len(response.data)

        return run

    def view(self, name: str):
        for view in self.app.appbuilder.baseviews:
            if view.__class__.__name__ == name:
                return view
        return None

    def as_user(self, who: str):
        """A request context logged in as the admin (for queries the views would run)."""
        from flask_login import login_user

        from app.models import Account

        ctx = self.app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"})
        ctx.push()
        user = self.db.session.get(Account, self.accounts[who])
        login_user(user)
        g.user = user
        return ctx

    def first_pk(self, view, who: str):
        ctx = self.as_user(who)
        try:
            order = getattr(view, "base_order", None) or ("id", "asc")
            _, items = view.datamodel.query(view._base_filters, order_column=order[0],
                                            order_direction=order[1], page=0, page_size=1)
            return view.datamodel.get_pk_value(items[0]) if items else None
        finally:
            self.db.session.remove()
            ctx.pop()

    @staticmethod
    def filter_index(view, column: str, arg_name: str) -> Optional[int]:
        """Position of a filter in the column's search filters: the index of the _flt_<i>_<col> args."""
        filters = view._filters.get_search_filters().get(column, [])
        for i, flt in enumerate(filters):
            if getattr(flt, "arg_name", None) == arg_name:
                return i
        return None

    # ----- building the case list --------------------------------------------------------------
    def cases(self) -> list[Case]:
        from app.models import Organisation, Person

        person_view, plain_view = self.view("PersonView"), self.view("PlainPersonView")
        cases: list[Case] = []
        ctx = self.as_user("mid")
        try:
            mid_path = self.db.session.get(Organisation, self.info.mid_org_id).path
            sample = self.db.session.execute(
                select(Person.id, Person.id_number).join(Organisation, Organisation.id == Person.employer_id)
                .where(Organisation.path.like(mid_path + "%")).order_by(Person.id.desc()).limit(1)
            ).first()
        finally:
            self.db.session.remove()
            ctx.pop()
        person_id, id_number = sample
        for view, prefix, plain in ((person_view, "", None), (plain_view, "plain ", "plain")):
            if view is None:
                continue
            base = view.route_base
            page_arg = f"page_{view.__class__.__name__}"
            sw = self.filter_index(view, "name", "sw")
            eq = self.filter_index(view, "id_number", "eq")
            admins = ["mid", "province"] if plain is None else ["mid"]
            for who in admins:
                label = f" ({who})" if plain is None else ""
                cases.append(Case(f"{prefix}person list p1{label}", "list", who, f"{base}/list/",
                                  self.get(who, f"{base}/list/"), plain=None if plain else "plain person list p1"))
                url = f"{base}/list/?{page_arg}=999"
                cases.append(Case(f"{prefix}person list p1000{label}", "list", who, url, self.get(who, url),
                                  plain=None if plain else "plain person list p1000"))
                if sw is not None:
                    url = f"{base}/list/?_flt_{sw}_name={urllib.parse.quote('王')}"
                    cases.append(Case(f"{prefix}name prefix search{label}", "search", who, url, self.get(who, url),
                                      plain=None if plain else "plain name prefix search"))
            if eq is not None:
                url = f"{base}/list/?_flt_{eq}_id_number={id_number}"
                cases.append(Case(f"{prefix}ID number lookup" + ("" if plain else " (mid)"), "search", "mid", url,
                                  self.get("mid", url), plain=None if plain else "plain ID number lookup"))
            url = f"{base}/show/{person_id}"
            cases.append(Case(f"{prefix}person detail" + ("" if plain else " (mid)"), "detail", "mid", url,
                              self.get("mid", url), plain=None if plain else "plain person detail"))
        if plain_view is not None:
            cases.append(Case("plain person add form", "form", "mid", "/plainpersons/add",
                              self.get("mid", "/plainpersons/add")))
            url = f"/plainpersons/edit/{person_id}"
            cases.append(Case("plain person edit form", "form", "mid", url, self.get("mid", url)))
        cases += self.form_cases()
        cases += self.lookup_cases(id_number)
        for who in ("mid", "province"):
            cases.append(Case(f"dashboard ({who})", "dashboard", who, "/", self.get(who, "/")))
        cases += self.plan_transfer_cases()
        cases += self.query_statistics_cases()
        # files, Excel and jobs (issue 10)
        from app.scale.bench_io import io_cases

        cases += io_cases(self)
        # credit-hour declaring (issue 12): Excel import and REST batch of 10,000 rows
        from app.scale.bench_credit import credit_cases

        cases += credit_cases(self)
        # 电子证书 (issue 13): verification page, one PDF, 1,000 certificates in one PDF
        from app.scale.certificates import certificate_cases
        cases += certificate_cases(self)
        # 查询统计 (issue 13)
        from app.scale.bench_stats import stats_cases

        cases += stats_cases(self)
        # last: the batches write (and put back) rows, which leaves dead tuples behind
        cases += self.batch_cases()
        cases += self.transfer_batch_cases()
        return cases

    # ----- issue 11: training plans, transfers, work materials ---------------------------------------
    def plan_transfer_cases(self) -> list[Case]:
        """Page 1 of every new review list and the transfer pages; the two pickers of 人员调出."""
        from app.workflow.kinds import load

        cases = []
        endpoints = set(self.app.view_functions)
        kinds = load()
        for key in PLAN_REVIEW_LISTS:
            url = f"/review/{key}/list/"
            if key in kinds and kinds[key].list_endpoint in endpoints:
                cases.append(Case(f"review list {key} p1 (mid)", "list", "mid", url, self.get("mid", url)))
        if "TransferOutView.receivers" not in endpoints:
            return cases
        for name, url in (("transfer records p1 (mid)", "/transfers/records/list/"),
                          ("transfers out p1 (mid)", "/transfers/out/list/")):
            cases.append(Case(name, "list", "mid", url, self.get("mid", url)))
        url = f"/lookup/person?{urllib.parse.urlencode({'status': 'active', 'q': '王'})}"
        cases.append(Case("transfer person picker (mid)", "lookup", "mid", url, self.get("mid", url),
                          note="人员调出: active persons in scope by name prefix (at most 20)"))
        url = f"/transfers/out/receivers?{urllib.parse.urlencode({'q': '医院'})}"
        cases.append(Case("receiving unit search (mid)", "lookup", "mid", url, self.get("mid", url),
                          note="人员调出: employer units province-wide by name, names and types only"))
        return cases

    def query_statistics_cases(self) -> list[Case]:
        """Issue 13: 职称系列分布查询 (GROUP BY of the subtree) and page 1 of 专技人员信息查询, plain and searched."""
        if "TitleDistributionView.index" not in self.app.view_functions:
            return []
        cases = []
        for who in ("mid", "province"):
            for name, url in ((f"title distribution ({who})", "/statistics/title-series/"),
                              (f"title distribution active ({who})", "/statistics/title-series/?status=active"),
                              (f"person query p1 ({who})", "/statistics/persons/list/"),
                              (f"person query name prefix ({who})",
                               "/statistics/persons/list/?" + urllib.parse.urlencode({"q": "王"})),
                              (f"person query verified 2025 ({who})",
                               "/statistics/persons/list/?year=2025&verified=yes")):
                cases.append(Case(name, "statistics", who, url, self.get(who, url)))
        return cases

    def transfer_batch_cases(self, limit: int = 500) -> list[Case]:
        """确认调转 of up to 500 pending transfers in one decision: moves, logins, audit rows; then put back."""
        from app.actor import Actor
        from app.models import Account, AuditLog, Person, Transfer
        from app.scope import scope_for
        from app.workflow.kinds import kind_for
        from app.workflow.service import decide
        from app.workflow.states import Decision

        if "TransferOutView.receivers" not in self.app.view_functions:
            return []
        who = "mid"
        ctx = self.as_user(who)
        try:
            kind = kind_for("transfer")
            ids = list(self.db.session.scalars(select(Transfer.id).where(kind.decidable(scope_for(g.user), g.user.id))
                                               .order_by(Transfer.id).limit(limit)))
            persons = [dict(r._mapping) for r in self.db.session.execute(
                select(Person.id, Person.employer_id, Person.org_path, Person.internal_department_id)
                .where(Person.id.in_(select(Transfer.person_id).where(Transfer.id.in_(ids)))))]
            logins = [dict(r._mapping) for r in self.db.session.execute(
                select(Account.id, Account.organisation_id, Account.internal_department_id)
                .where(Account.id.in_(select(Person.account_id).where(
                    Person.id.in_(select(Transfer.person_id).where(Transfer.id.in_(ids)))))))]
            floor = self.db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
        finally:
            self.db.session.remove()
            ctx.pop()
        if not ids:
            return []
        n, app, db = len(ids), self.app, self.db

        def reset():
            with app.app_context():
                session = db.session
                session.execute(update(Transfer).where(Transfer.id.in_(ids)).values(
                    status="pending", reviewed_by_id=None, reviewed_on=None, reject_reason=None)
                    .execution_options(synchronize_session=False))
                if persons:
                    session.execute(update(Person), persons)
                if logins:
                    session.execute(update(Account), logins)
                session.execute(AuditLog.__table__.delete().where(AuditLog.id > floor))
                transaction_commit()
                session.remove()

        def run_decide():
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                actor = db.session.get(Account, self.accounts[who])
                g.user = actor
                _ = actor.organisation, actor.roles
                self._counter.count = 0
                started = time.perf_counter()
                outcome = decide("transfer", ids, Actor(actor, "127.0.0.1"), Decision.approve)
                elapsed = (time.perf_counter() - started) * 1000
                db.session.remove()
            return (200 if outcome.done == n else 500), outcome.done, elapsed

        return [Case(f"batch confirmation {n} transfers (decide)", "batch", who, "app.workflow.service.decide",
                     run_decide, reset=reset,
                     note="确认调转 in one decision: guarded UPDATE, audit INSERT…SELECT, persons and logins moved")]

    def form_views(self):
        """Every model view (ours) whose model has a relation to Person or Organisation."""
        from app.models import Organisation, Person

        found = []
        for view in self.app.appbuilder.baseviews:
            if not isinstance(view, ModelView) or view.__class__.__name__.startswith("Plain"):
                continue
            datamodel = view.datamodel
            related = [c for c in datamodel.get_columns_list() if datamodel.is_relation(c)
                       and issubclass(datamodel.get_related_model(c), (Person, Organisation))]
            if related:
                found.append((view, related))
        return found

    def may_write(self, who: str, area: str) -> bool:
        """Whether the admin holds can_write on a view's area (forms of other user types are skipped)."""
        from app.models import Account

        with self.app.app_context():
            account = self.db.session.get(Account, self.accounts[who])
            allowed = ("can_write", area) in self.app.appbuilder.sm._permission_set(account)
            self.db.session.remove()
        return allowed

    def form_cases(self) -> list[Case]:
        from flask import url_for

        cases = []
        endpoints = set(self.app.view_functions)
        for view, related in self.form_views():
            for kind in ("add", "edit"):
                endpoint = f"{view.endpoint}.{kind}"
                if endpoint not in endpoints:
                    continue
                for who in ("mid", "province"):
                    if not self.may_write(who, view.class_permission_name):
                        continue  # e.g. a training base's own submission form: not an admin's page
                    with self.app.test_request_context():
                        if kind == "add":
                            url = url_for(endpoint)
                        else:
                            pk = self.first_pk(view, who)
                            if pk is None:
                                continue
                            url = url_for(endpoint, pk=pk)
                    name = f"{view.route_base}/{kind} form ({who})"
                    cases.append(Case(name, "form", who, url, self.get(who, url),
                                      plain=f"plain person {kind} form",
                                      note="relations: " + ", ".join(related)))
        return cases

    def lookup_cases(self, id_number: str) -> list[Case]:
        """The search-as-you-type requests the form pickers send (when the app has a lookup endpoint)."""
        if "LookupView.lookup" not in self.app.view_functions:
            return []
        from app.admin import lookup as lookup_module

        samples = {"person": [("name", "王"), ("ID prefix", id_number[:14])],
                   "organisation": [("name", "武汉"), ("employer, name", "湖北省")],
                   "department": [("name", "办")], "account": [("name", "王")]}
        cases = []
        for name in getattr(lookup_module, "LOOKUPS", {}):
            for label, term in samples.get(name, [("name", "王")]):
                query = {"q": term}
                if label.startswith("employer"):
                    query["type"] = "employer"
                url = f"/lookup/{name}?{urllib.parse.urlencode(query)}"
                for who in ("mid", "province"):
                    cases.append(Case(f"lookup {name} by {label} ({who})", "lookup", who, url, self.get(who, url),
                                      note="the picker's search request (at most 20 matches)"))
        return cases

    # ----- batch approval ----------------------------------------------------------------------
    def pending_ids(self, who: str, limit: int) -> list[int]:
        from app.models import ReviewRequest
        from app.scope import scope_for
        from app.workflow.kinds import kind_for

        ctx = self.as_user(who)
        try:
            scope = scope_for(g.user)
            kind = kind_for("person_registration")
            return list(self.db.session.scalars(
                select(ReviewRequest.id).where(kind.decidable(scope, g.user.id))
                .order_by(ReviewRequest.id).limit(limit)))
        finally:
            self.db.session.remove()
            ctx.pop()

    def restorer(self, ids: list[int]):
        """Put the requests, their persons and logins back to pending; drop the new audit rows."""
        from app.models import Account, AuditLog, Person, PersonStatus, ReviewRequest, ReviewStatus

        with self.app.app_context():
            floor = self.db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0

        def reset():
            with self.app.app_context():
                session = self.db.session
                subjects = select(ReviewRequest.subject_id).where(ReviewRequest.id.in_(ids))
                session.execute(update(ReviewRequest).where(ReviewRequest.id.in_(ids)).values(
                    status=ReviewStatus.pending, reviewed_by_id=None, reviewed_on=None, reject_reason=None)
                    .execution_options(synchronize_session=False))
                session.execute(update(Person).where(Person.id.in_(subjects)).values(status=PersonStatus.pending)
                                .execution_options(synchronize_session=False))
                session.execute(update(Account).where(Account.id.in_(
                    select(Person.account_id).where(Person.id.in_(subjects)))).values(active=False)
                    .execution_options(synchronize_session=False))
                session.execute(AuditLog.__table__.delete().where(AuditLog.id > floor))
                transaction_commit()
                session.remove()

        return reset

    def batch_cases(self) -> list[Case]:
        from app.actor import Actor
        from app.models import Account, ReviewKind
        from app.workflow.service import decide
        from app.workflow.states import Decision

        who = "mid"
        ids = self.pending_ids(who, self.options.batch)
        if len(ids) < self.options.batch:
            who = "province"
            ids = self.pending_ids(who, self.options.batch)
        if not ids:
            return []
        n = len(ids)
        reset = self.restorer(ids)
        app, db = self.app, self.db

        def run_decide():
            with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                actor = db.session.get(Account, self.accounts[who])
                g.user = actor
                _ = actor.organisation, actor.roles  # what the request's user loader has loaded already
                self._counter.count = 0
                started = time.perf_counter()
                outcome = decide(ReviewKind.person_registration, ids, Actor(actor, "127.0.0.1"), Decision.approve)
                elapsed = (time.perf_counter() - started) * 1000
                db.session.remove()
            return (200 if outcome.done == n else 500), outcome.done, elapsed

        client = self.clients[who]
        form = {"action": "approve", "rowid": [str(i) for i in ids]}

        def post(url):
            def run():
                response = client.post(url, data=form)
                return response.status_code, len(response.data)
            return run

        cases = [
            Case(f"batch approval {n} (decide)", "batch", who, "app.workflow.service.decide", run_decide,
                 plain=f"plain batch approval {n} (FAB action)", reset=reset,
                 note="decide() in a request context; time and statements of the call only"),
            Case(f"batch approval {n} (review list action)", "batch", who,
                 "/review/person_registration/action_post", post("/review/person_registration/action_post"),
                 plain=f"plain batch approval {n} (FAB action)", reset=reset,
                 note="the whole request: scoped row load, decide(), redirect"),
        ]
        if self.view("PlainReviewView") is not None:
            cases.append(Case(f"plain batch approval {n} (FAB action)", "batch", who, "/plainreviews/action_post",
                              post("/plainreviews/action_post"), reset=reset,
                              note="FAB action_post: one SELECT per row, ORM loop, one audit row per item"))
        return cases

    # ----- running -------------------------------------------------------------------------------
    def run(self) -> list[CaseResult]:
        from app.extensions import db

        with self.app.app_context():
            engine = db.engine
        self._counter = counter = StatementCounter(engine)
        results = []
        self.case_list = self.cases()
        try:
            for case in self.case_list:
                if self.options.only and self.options.only not in case.name:
                    continue
                result = measure(case, counter, self._timed_options(case))
                results.append(result)
                self.echo(f"  {result.name:<52} {_fmt(result.median_ms):>9} ms  {result.statements!s:>5} stmts"
                          + (f"  ERROR {result.error}" if result.error else ""))
        finally:
            counter.close()
        return results

    def _timed_options(self, case: Case) -> BenchOptions:
        """Batch approvals write 1,000 rows a run, exports and imports are whole jobs: fewer runs for them."""
        if case.group not in ("batch", "io"):
            return self.options
        return BenchOptions(runs=max(1, min(self.options.runs, 5)), warmup=min(self.options.warmup, 1),
                            profile=self.options.profile)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def apply_targets(results: list[CaseResult]) -> None:
    from app.scale.bench_credit import TARGETS as CREDIT_TARGETS
    from app.scale.bench_io import TARGETS as IO_TARGETS

    by_name = {r.name: r for r in results}
    for r in results:
        credit = CREDIT_TARGETS.get(r.name)
        if credit is None and r.name.startswith("credit batch approval") and "(decide)" in r.name:
            credit = CREDIT_TARGETS["credit batch approval 1000 (decide)"]
        if credit is not None:
            r.target_ms, r.target_statements = credit
            r.met = (r.median_ms is not None and r.median_ms <= r.target_ms
                     and (r.target_statements is None or (r.statements or 0) <= r.target_statements))
            continue
        if r.name in IO_TARGETS:
            r.target_ms, r.target_mb = IO_TARGETS[r.name]
            r.met = (r.median_ms is not None and r.median_ms <= r.target_ms
                     and (r.target_mb is None or (r.peak_extra_mb is not None and r.peak_extra_mb <= r.target_mb)))
            continue
        plain = by_name.get(r.plain) if r.plain else None
        if plain and plain.median_ms and r.median_ms:
            r.speedup_vs_plain = round(plain.median_ms / r.median_ms, 2)
        target = TARGETS.get(r.name)
        if target is None and r.name.startswith("batch approval") and "(decide)" in r.name:
            target = TARGETS["batch approval 1000 (decide)"]
        if target is None and r.name.startswith("batch confirmation") and "(decide)" in r.name:
            target = TARGETS["batch confirmation 500 transfers (decide)"]
        if target is None and r.group in ("form", "lookup") and not r.name.startswith("plain"):
            target = (FORM_TARGET_MS, None)
        if target is None:
            continue
        r.target_ms, r.target_statements = target
        if r.median_ms is None:
            r.met = False
            continue
        r.met = r.median_ms <= r.target_ms and (r.target_statements is None or r.statements <= r.target_statements)


# ---------------------------------------------------------------------------------------------------
# EXPLAIN of the slow statements
# ---------------------------------------------------------------------------------------------------


def _is_slow(r: CaseResult) -> bool:
    if r.group == "io":  # whole jobs: measured for time and memory, not profiled request by request
        return False
    return r.met is False or (not r.name.startswith("plain") and (r.median_ms or 0) > FORM_TARGET_MS)


PROFILE_PATHS = ("/app/", "flask_appbuilder", "wtforms", "jinja2/environment", "sqlalchemy/orm/query")


def python_profile(case: Case, limit: int = 25) -> list[str]:
    """Top functions (cumulative time) of one cProfiled run, limited to app, FAB, WTForms and Jinja."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        case.run()
    finally:
        profiler.disable()
        if case.reset:
            case.reset()
    stats = pstats.Stats(profiler).stats
    rows = []
    for (filename, line, function), (_, calls, _, cumulative, _) in stats.items():
        if any(p in filename for p in PROFILE_PATHS) and "decorators.py" not in filename:
            short = filename.split("site-packages/")[-1].replace(str(PROJECT_DIR) + "/", "")
            rows.append((cumulative, calls, f"{short}:{line}({function})"))
    rows.sort(reverse=True)
    return [f"{cum * 1000:8.1f} ms {calls:>7} calls  {name}" for cum, calls, name in rows[:limit]]


def explain_slowest(app, results: list[CaseResult], min_ms: float = 5.0) -> None:
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect() as conn:
            for r in results:
                if not _is_slow(r):
                    continue
                for statement in r.slowest:
                    sql = statement.get("literal")
                    if not sql or statement["ms"] < min_ms or not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
                    r.explain = f"-- {statement['ms']} ms in the profiled run\n{sql}\n" + "\n".join(plan)
                    break
                conn.rollback()


# ---------------------------------------------------------------------------------------------------
# Throughput: gunicorn with 2 workers, wrk on 127.0.0.1
# ---------------------------------------------------------------------------------------------------


@dataclass
class ThroughputResult:
    name: str
    url: str
    requests_per_sec: Optional[float] = None
    latency_p50_ms: Optional[float] = None
    latency_p99_ms: Optional[float] = None
    requests: Optional[int] = None
    errors: Optional[str] = None
    target_rps: Optional[float] = None
    met: Optional[bool] = None
    skipped: Optional[str] = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http_login(base: str, id_number: str, password: str) -> str:
    """Log in through the real form (CSRF token included) and return the session cookie."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/", timeout=30).read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    data = {"user_type": "supervisory", "username": id_number, "password": password}
    if match:
        data["csrf_token"] = match.group(1)
    response = opener.open(base + "/login/", data=urllib.parse.urlencode(data).encode(), timeout=30)
    if "/login" in urllib.parse.urlparse(response.geturl()).path:
        raise RuntimeError("login over HTTP failed")
    for cookie in jar:
        if cookie.name == "session":
            return cookie.value
    raise RuntimeError("no session cookie after login")


def _wait_ready(base: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            urllib.request.urlopen(base + "/login/", timeout=5).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer in time")


def _parse_wrk(output: str) -> dict:
    def number(pattern):
        m = re.search(pattern, output)
        return m.group(1) if m else None

    def ms(value):
        if value is None:
            return None
        m = re.match(r"([\d.]+)(us|ms|s)", value)
        factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return round(float(m.group(1)) * factor, 2)

    errors = []
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"(Socket errors:[^\n]+)"):
        value = number(pattern)
        if value:
            errors.append(value)
    return {"rps": float(number(r"Requests/sec:\s+([\d.]+)") or 0),
            "p50": ms(number(r"50%\s+([\d.]+\w+)")), "p99": ms(number(r"99%\s+([\d.]+\w+)")),
            "requests": int(number(r"(\d+) requests in") or 0), "errors": "; ".join(errors) or None}


def throughput(database_uri: str, info, duration: int, echo) -> list[ThroughputResult]:
    from app.scale.generate import BENCH_PASSWORD

    urls = [("person list p1 (mid), 2 gunicorn workers", "/persons/list/"),
            ("plain person list p1, 2 gunicorn workers", "/plainpersons/list/")]
    wrk = shutil.which("wrk")
    if wrk is None:
        reason = "wrk is not installed (Debian: apt-get install wrk; `make bench` tries that)"
        echo(f"  throughput skipped: {reason}")
        return [ThroughputResult(name, url, skipped=reason) for name, url in urls]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        reason = "gunicorn is not installed in this environment"
        echo(f"  throughput skipped: {reason}")
        return [ThroughputResult(name, url, skipped=reason) for name, url in urls]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # plain HTTP on 127.0.0.1: a Secure session cookie would never come back to it (CSRF "session token missing")
    env = dict(os.environ, DATABASE_URL=database_uri, DEMO_DATA="0", SESSION_COOKIE_SECURE="0",
               SECRET_KEY=os.environ.get("SECRET_KEY") or os.urandom(24).hex())
    log_path = PROJECT_DIR / "bench-results" / "gunicorn.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    results = []
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "300",
             "app.scale.bench:wsgi_app()"], cwd=str(PROJECT_DIR), env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(base, proc)
            cookie = _http_login(base, info.mid_admin, BENCH_PASSWORD)
            for name, url in urls:
                # the page must really render for this session (wrk counts a redirect as success)
                request = urllib.request.Request(base + url, headers={"Cookie": f"session={cookie}"})
                with urllib.request.urlopen(request, timeout=120) as response:
                    if "/login" in urllib.parse.urlparse(response.geturl()).path or response.status != 200:
                        raise RuntimeError(f"{url} does not render for the logged-in session")
                command = [wrk, "-t2", "-c8", "--latency", "-H", f"Cookie: session={cookie}", base + url]
                subprocess.run(command[:1] + ["-d3s"] + command[1:], capture_output=True, text=True, timeout=120)
                output = subprocess.run(command[:1] + [f"-d{duration}s", "--timeout", "30s"] + command[1:],
                                        capture_output=True, text=True, timeout=duration + 120).stdout
                parsed = _parse_wrk(output)
                result = ThroughputResult(name, url, requests_per_sec=parsed["rps"], latency_p50_ms=parsed["p50"],
                                          latency_p99_ms=parsed["p99"], requests=parsed["requests"],
                                          errors=parsed["errors"])
                if not url.startswith("/plain"):
                    result.target_rps = THROUGHPUT_TARGET
                    result.met = parsed["rps"] >= THROUGHPUT_TARGET and not parsed["errors"]
                echo(f"  {name:<52} {parsed['rps']:>9.1f} req/s  p50 {parsed['p50']} ms  p99 {parsed['p99']} ms"
                     + (f"  ({parsed['errors']})" if parsed["errors"] else ""))
                results.append(result)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return results


# ---------------------------------------------------------------------------------------------------
# Entry point, table, JSON
# ---------------------------------------------------------------------------------------------------


@dataclass
class BenchReport:
    meta: dict
    cases: list
    throughput: list


def run_bench(database_uri: str, options: BenchOptions, echo=print) -> BenchReport:
    # FAB warns "Invalid redirect detected" when a test-client request has no Referer to go back to
    logging.getLogger("flask_appbuilder.utils.base").setLevel(logging.ERROR)
    import shutil
    import tempfile

    # the file store of the run (exports, imports, uploads): a temporary folder, removed afterwards
    storage_root = tempfile.mkdtemp(prefix="jijiao-bench-files-")
    try:
        return _run_bench(database_uri, options, echo, storage_root)
    finally:
        shutil.rmtree(storage_root, ignore_errors=True)


def _run_bench(database_uri: str, options: BenchOptions, echo, storage_root: str) -> BenchReport:
    from app.extensions import db
    from app.scale.generate import count_rows, read_marker

    app = make_bench_app(database_uri, storage_root)
    with app.app_context():
        info = read_marker()
        if info is None:
            raise RuntimeError("no scale data in this database: run `flask seed-scale --persons N` first")
        rows = count_rows()
        dialect = db.engine.dialect.name
        server = db.session.execute(text("SELECT version()")).scalar() if dialect == "postgresql" else None
        db.session.remove()
    echo(f"benchmark: {rows['person']:,} persons (seed {info.seed}), {rows['organisation']:,} organisations, "
         f"{dialect}; {options.runs} runs after {options.warmup} warm-up")
    if dialect == "postgresql":
        # earlier runs' batch approvals leave dead tuples and pages that are not all-visible (index-only
        # scans then fetch the heap): start every run from the same, vacuumed state
        with app.app_context():
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ("person", "ab_user", "review_request", "audit_log"):
                    conn.execute(text(f"VACUUM ANALYZE {table}"))
    load_start = list(os.getloadavg())
    bench = Bench(app, info, options, echo)
    results = bench.run()
    apply_targets(results)
    if options.explain:
        explain_slowest(app, results)
    if options.pyprofile:
        cases = {c.name: c for c in bench.case_list}
        for r in results:
            if _is_slow(r) and r.error is None and r.name in cases:
                r.python_profile = python_profile(cases[r.name])
    tp = []
    if options.wrk and not options.only:
        if dialect == "sqlite" and ":memory:" in database_uri:
            tp = []
        else:
            tp = throughput(database_uri, info, options.wrk_duration, echo)
    meta = {
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "database": dialect, "server": server, "rows": rows, "persons": info.persons, "seed": info.seed,
        "units": info.units, "load_seconds": info.seconds, "load_timings": info.timings,
        "runs": options.runs, "warmup": options.warmup, "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "mid_org_id": info.mid_org_id,
        "load_average": {"start": load_start, "end": list(os.getloadavg())},
        "code": _code_state(),
        "targets": {"cases": TARGETS, "form_ms": FORM_TARGET_MS, "throughput_rps": THROUGHPUT_TARGET},
    }
    return BenchReport(meta=meta, cases=[asdict(r) for r in results], throughput=[asdict(t) for t in tp])


def _code_state() -> dict:
    """Which code was measured: the commit and the files changed in the working tree (read-only git)."""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=str(PROJECT_DIR), capture_output=True, text=True,
                                  timeout=10).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "HEAD").strip(),
            "modified": [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]}


def print_table(report: BenchReport, echo=print) -> None:
    echo("")
    header = f"{'case':<52} {'median':>9} {'min–max (p90)':>24} {'stmts':>6} {'vs plain':>9} {'target':>12}"
    echo(header)
    echo("-" * len(header))
    for r in report.cases:
        spread = "-" if r["min_ms"] is None else f"{r['min_ms']:.1f}–{r['max_ms']:.1f} ({r['p90_ms']:.1f})"
        speed = "" if r["speedup_vs_plain"] is None else f"{r['speedup_vs_plain']:.1f}×"
        target = ""
        if r["target_ms"] is not None:
            target = f"≤{r['target_ms']:g}ms" + (f"/{r['target_statements']}" if r["target_statements"] else "")
            target += " ok" if r["met"] else " MISS"
        if r.get("target_mb") is not None:
            target = f"≤{r['target_ms']:g}ms/{r['target_mb']:g}MB " + ("ok" if r["met"] else "MISS")
        stmts = "-" if r["statements"] is None else str(r["statements"])
        line = f"{r['name']:<52} {_fmt(r['median_ms']):>9} {spread:>24} {stmts:>6} {speed:>9} {target:>12}"
        if r.get("peak_extra_mb") is not None:
            line += f"  peak +{r['peak_extra_mb']:g} MB"
        if r.get("cpu_ms") is not None:
            line += f"  cpu {r['cpu_ms']:g} ms"
        if r["error"]:
            line += f"  ERROR {r['error']}"
        echo(line)
    for t in report.throughput:
        if t["skipped"]:
            echo(f"{t['name']:<52} skipped: {t['skipped']}")
            continue
        target = "" if t["target_rps"] is None else f"≥{t['target_rps']:g}/s " + ("ok" if t["met"] else "MISS")
        echo(f"{t['name']:<52} {t['requests_per_sec']:>9.1f} req/s (p50 {t['latency_p50_ms']} ms, "
             f"p99 {t['latency_p99_ms']} ms) {target}")
    missed = [r["name"] for r in report.cases if r["met"] is False] + [
        t["name"] for t in report.throughput if t["met"] is False]
    echo("")
    echo("targets missed: " + (", ".join(missed) if missed else "none"))


def write_json(report: BenchReport, path: str) -> None:
    target = Path(path)
    if not target.is_absolute():
        target = PROJECT_DIR / target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=2, default=str))
