"""The fixed demo world (organisations, accounts and work in every state), so anyone can try the product."""
from __future__ import annotations

import datetime
import random

from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import delete, select

from app.extensions import db
from app.models import (
    Account,
    AuditLog,
    Education,
    InternalDepartment,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    Person,
    PersonStatus,
    TitleLevel,
    TitleSeries,
    UserType,
)
from app.reference import seed_reference_data
from app.roles import EMPLOYER, PROVINCE, SUPERVISORY, TRAINING_BASE
from app.services.accounts import new_account
from app.services.persons import fill_from_id_number
from app.services.transaction import transaction
from app.validators import make_id_number, make_uscc

P, S, E, T = (OrganisationType.province, OrganisationType.supervisory,
              OrganisationType.employer, OrganisationType.training_base)

#: (key, name, type, parent key, region, status)
ORGANISATIONS = [
    ("hrss", "湖北省人力资源和社会保障厅", P, None, "湖北省", "approved"),
    ("health", "湖北省卫生健康委员会", S, "hrss", "湖北省", "approved"),
    ("wh_health", "武汉市卫生健康委员会", S, "health", "湖北省武汉市", "approved"),
    ("wh_first", "武汉市第一医院", E, "wh_health", "湖北省武汉市", "approved"),
    ("wh_central", "武汉市中心医院", E, "wh_health", "湖北省武汉市", "approved"),
    ("people_hosp", "湖北省人民医院", E, "health", "湖北省武汉市", "approved"),
    ("union_hosp", "华中科技大学同济医学院附属协和医院", E, "health", "湖北省武汉市", "approved"),
    ("health_base", "湖北省卫生人才继续教育基地", T, "health", "湖北省武汉市", "approved"),
    ("hs_health", "黄石市卫生健康委员会", S, "health", "湖北省黄石市", "pending"),
    ("tcm", "湖北省中医药管理局", S, "health", "湖北省", "approved"),
    ("tcm_hosp", "湖北省中医院", E, "tcm", "湖北省武汉市", "approved"),
    ("wh_third", "武汉市第三医院", E, "wh_health", "湖北省武汉市", "pending"),
    ("nurse_base", "湖北省护理继续教育中心", T, "health", "湖北省武汉市", "pending"),
    ("edu", "湖北省教育厅", S, "hrss", "湖北省", "approved"),
    ("whu", "武汉大学", E, "edu", "湖北省武汉市", "approved"),
    ("hubu", "湖北大学", E, "edu", "湖北省武汉市", "approved"),
    ("edu_base", "湖北省教育干部继续教育基地", T, "edu", "湖北省武汉市", "approved"),
    ("wh_edu", "武汉市教育局", S, "edu", "湖北省武汉市", "approved"),
    ("wh_no2", "武汉市第二中学", E, "wh_edu", "湖北省武汉市", "approved"),
]

#: (ID number, password, name, organisation key, user type, role, super admin)
DEMO_ACCOUNTS = [
    ("420106198001010015", "Hubei@2026", "张省管", "hrss", UserType.supervisory, PROVINCE, True),
    ("420102198503150020", "Demo@2026", "李卫健", "health", UserType.supervisory, SUPERVISORY, True),
    ("420111199208080040", "Demo@2026", "王武卫", "wh_health", UserType.supervisory, SUPERVISORY, True),
    ("42010219900601003X", "Demo@2026", "赵教育", "edu", UserType.supervisory, SUPERVISORY, True),
    ("420106197512120051", "Demo@2026", "陈医院", "people_hosp", UserType.employer, EMPLOYER, True),
    ("420502198807070064", "Demo@2026", "刘基地", "health_base", UserType.training_base, TRAINING_BASE, True),
]

DEPARTMENTS = {
    "health": ["办公室", "科技教育处", "人事处"],
    "edu": ["办公室", "教师工作处"],
    "wh_health": ["办公室", "人事科"],
    "people_hosp": ["内科", "外科", "护理部", "医务处"],
    "union_hosp": ["心内科", "骨科", "护理部"],
    "wh_first": ["急诊科", "儿科"],
    "wh_central": ["眼科", "检验科"],
    "whu": ["计算机学院", "医学部", "人事部"],
    "hubu": ["文学院", "商学院"],
    "wh_no2": ["高中部", "初中部"],
    "tcm_hosp": ["针灸科", "药剂科"],
}

#: which series each employer's people mostly hold
EMPLOYER_SERIES = {
    "people_hosp": ["卫生技术人员"], "union_hosp": ["卫生技术人员"], "wh_first": ["卫生技术人员"],
    "wh_central": ["卫生技术人员", "会计"], "whu": ["高等学校教师", "自然科学研究人员", "实验技术"],
    "hubu": ["高等学校教师", "哲学社会科学研究人员", "图书资料"], "wh_no2": ["中小学教师"],
    "tcm_hosp": ["卫生技术人员"],
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌志鹏辉燕婷雪琳晨宇浩然"
REGIONS = ["420102", "420103", "420104", "420106", "420111", "420502", "420602", "421002"]
PERSONS_PER_EMPLOYER = 32
DEMO_SEED = 2026


def _uscc(rng: random.Random, prefix: str) -> str:
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return make_uscc(prefix + "420100" + "".join(rng.choice(charset) for _ in range(9)))


def build_demo_world() -> None:
    """Create the demo organisations, accounts and persons (on an empty database)."""
    rng = random.Random(DEMO_SEED)
    seed_reference_data()
    db.session.flush()
    roles = {r.name: r for r in db.session.scalars(select(Role))}
    orgs: dict[str, Organisation] = {}
    for key, name, org_type, parent_key, region, status in ORGANISATIONS:
        org = Organisation(
            type=org_type, name=name, region=region, status=OrganisationStatus(status),
            uscc=_uscc(rng, "11" if org_type in (P, S) else "12"),
            contact_person=rng.choice(SURNAMES) + "老师", phone=f"139{rng.randrange(10**8):08d}",
            address=f"{region}{rng.choice(['中北路', '解放大道', '东湖路', '武珞路'])}{rng.randrange(1, 300)}号",
        )
        db.session.add(org)
        db.session.flush()
        org.place_under(orgs.get(parent_key))
        orgs[key] = org
    departments: dict[str, list[InternalDepartment]] = {}
    for key, names in DEPARTMENTS.items():
        departments[key] = [InternalDepartment(organisation=orgs[key], name=n) for n in names]
        db.session.add_all(departments[key])
    for id_number, password, name, org_key, user_type, role, super_admin in DEMO_ACCOUNTS:
        db.session.add(new_account(
            id_number=id_number, real_name=name, password=password, organisation=orgs[org_key],
            user_type=user_type, roles=[roles[role]], is_super_admin=super_admin,
            phone=f"138{rng.randrange(10**8):08d}",
        ))
    series = {s.name: s for s in db.session.scalars(select(TitleSeries))}
    all_series = list(series.values())
    levels = list(db.session.scalars(select(TitleLevel).order_by(TitleLevel.sort_order)))
    level_weights = [8, 20, 35, 27, 10]
    seq = 0
    for org_key, preferred in EMPLOYER_SERIES.items():
        for i in range(PERSONS_PER_EMPLOYER):
            seq += 1
            birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 40))
            id_number = make_id_number(rng.choice(REGIONS), birth, seq % 1000)
            chosen = series[rng.choice(preferred)] if rng.random() < 0.85 else rng.choice(all_series)
            level = rng.choices(levels, weights=level_weights)[0]
            person = Person(
                id_number=id_number,
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
                phone=f"13{rng.randrange(10**9):09d}",
                education=rng.choice(list(Education)),
                employer=orgs[org_key],
                internal_department=rng.choice(departments[org_key]),
                title_series=chosen, title_level=level, title_name=f"{level.name}{chosen.name[:4]}",
                title_date=birth + datetime.timedelta(days=365 * rng.randrange(23, 40)),
                status=PersonStatus.active,
            )
            fill_from_id_number(person)
            db.session.add(person)
    db.session.flush()
    _personnel_logins(roles)
    _pending_requests(rng, orgs, roles, series, levels)
    _plans_transfers_materials(orgs, roles)
    _credit_hours(orgs)
    _issue_certificates()


#: approved persons of each employer who have their own login (so 新增管理员 (a) has people to offer)
PERSONNEL_LOGINS_PER_EMPLOYER = 2


def _issue_certificates() -> None:
    """电子证书 for every year verified 审验通过 so far (runs last: after the credit hours and verifications)."""
    from app.services.certificates import issue_all_approved

    db.session.flush()
    issue_all_approved()


def _personnel_logins(roles) -> None:
    """The first persons of every employer get a personnel login (password Demo@2026)."""
    persons = db.session.scalars(select(Person).where(Person.status == PersonStatus.active).order_by(Person.id))
    given: dict[int, int] = {}
    for person in persons:
        if given.get(person.employer_id, 0) >= PERSONNEL_LOGINS_PER_EMPLOYER:
            continue
        given[person.employer_id] = given.get(person.employer_id, 0) + 1
        person.account = new_account(id_number=person.id_number, real_name=person.name, password="Demo@2026",
                                     organisation=person.employer, user_type=UserType.personnel,
                                     roles=[roles["专技人员"]], phone=person.phone)
    db.session.flush()


#: pending registrations of persons: (employer key, how many)
PENDING_PERSONS = [("people_hosp", 3), ("wh_first", 2), ("whu", 2), ("tcm_hosp", 1)]
#: pending organisation registrations and their admins (org key, admin ID seq)
PENDING_ORGS = [("wh_third", 801), ("nurse_base", 802), ("hs_health", 803)]


def _pending_requests(rng, orgs, roles, series, levels) -> None:
    """Something to review on every review list of the demo accounts."""
    from app.actor import Actor
    from app.models import ReviewKind
    from app.workflow.submissions import submit_request

    seq = 500
    for org_key, count in PENDING_PERSONS:
        for _ in range(count):
            seq += 1
            birth = datetime.date(1985, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 12))
            id_number = make_id_number("420106", birth, seq)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            employer = orgs[org_key]
            account = new_account(id_number=id_number, real_name=name, password="Demo@2026",
                                  organisation=employer, user_type=UserType.personnel,
                                  roles=[roles["专技人员"]], active=False)
            person = Person(id_number=id_number, name=name, phone=f"137{rng.randrange(10**8):08d}",
                            employer=employer, status=PersonStatus.pending,
                            title_series=rng.choice(list(series.values())), title_level=levels[2],
                            title_name="主治医师", education=Education.bachelor, account=account)
            fill_from_id_number(person)
            db.session.add_all([account, person])
            db.session.flush()
            submit_request(ReviewKind.person_registration, Actor(account), subject_id=person.id,
                           org_id=employer.id, subject_name=name, subject_code=id_number)
    kinds = {E: (ReviewKind.unit_registration, UserType.employer, EMPLOYER),
             T: (ReviewKind.base_registration, UserType.training_base, TRAINING_BASE),
             S: (ReviewKind.supervisory_registration, UserType.supervisory, SUPERVISORY)}
    for org_key, admin_seq in PENDING_ORGS:
        org = orgs[org_key]
        kind, user_type, role = kinds[org.type]
        admin = new_account(
            id_number=make_id_number("420200", datetime.date(1986, 3, 3), admin_seq),
            real_name=rng.choice(SURNAMES) + "主任", password="Demo@2026", organisation=org,
            user_type=user_type, roles=[roles[role]], is_super_admin=True,
            active=org.type == S,  # a department registrant may log in at once
        )
        db.session.add(admin)
        db.session.flush()
        submit_request(kind, Actor(admin), subject_id=org.id, org_id=org.id, subject_name=org.name,
                       subject_code=org.uscc)
    # title changes filed by three 湖北省人民医院 people (with their own logins) from 个人中心
    hospital = orgs["people_hosp"]
    for index, person in enumerate(db.session.scalars(
            select(Person).where(Person.employer_id == hospital.id, Person.status == PersonStatus.active)
            .order_by(Person.id).limit(3))):
        login = person.account
        if login is None:
            login = new_account(id_number=person.id_number, real_name=person.name, password="Demo@2026",
                                organisation=hospital, user_type=UserType.personnel, roles=[roles["专技人员"]])
            db.session.add(login)
            db.session.flush()
            person.account_id = login.id
        before = {"title_level_id": person.title_level_id, "title_name": person.title_name}
        after = {"title_level_id": levels[1].id, "title_name": "副主任医师"}
        item = submit_request(ReviewKind.person_change, Actor(login), subject_id=person.id, org_id=hospital.id,
                              subject_name=person.name, subject_code=person.id_number, before=before,
                              after=after)
        if index < 2:
            _demo_evidence(item, hospital, person.name, with_photo=index == 0)
    # a contact change filed by 协和医院's admin, a parent change filed by 中医药管理局's admin
    union, tcm, province = orgs["union_hosp"], orgs["tcm"], orgs["hrss"]
    union_admin, tcm_admin = (
        _super_admin(org, roles[role], seq)
        for org, role, seq in ((union, EMPLOYER, 804), (tcm, SUPERVISORY, 805)))
    submit_request(ReviewKind.organisation_change, Actor(union_admin), subject_id=union.id, org_id=union.id,
                   subject_name=union.name, subject_code=union.uscc,
                   before={"contact_person": union.contact_person}, after={"contact_person": "孙主任"})
    submit_request(ReviewKind.parent_change, Actor(tcm_admin), subject_id=tcm.id, org_id=tcm.id,
                   target_org_id=province.id, subject_name=tcm.name, subject_code=tcm.uscc,
                   before={"parent_id": tcm.parent_id, "parent": tcm.parent.name},
                   after={"parent_id": province.id, "parent": province.name})


def _plans_transfers_materials(orgs, roles) -> None:
    """Training plans and summaries in every state, programmes, transfers, work materials (manual 5.1.5-5.3)."""
    from app.actor import Actor
    from app.services import materials, training, transfers
    from app.services.own_submissions import create, withdraw
    from app.workflow.service import decide

    def admin(id_number):
        return Actor(db.session.scalar(select(Account).where(Account.username == id_number)))

    base, health, wuhan, edu, province, hospital = (admin(n) for n in (
        "420502198807070064", "420102198503150020", "420111199208080040", "42010219900601003X",
        "420106198001010015", "420106197512120051"))
    edu_base = Actor(_super_admin(orgs["edu_base"], roles[TRAINING_BASE], 806))

    def filed(spec, actor, state, reviewer=None, **values):
        item = create(spec, actor, values)
        if state == "approved":
            decide(spec.kind_key, [item.id], reviewer, "approve")
        elif state == "rejected":
            decide(spec.kind_key, [item.id], reviewer, "reject", "内容不完整，请补充后重新提交")
        elif state == "withdrawn":
            withdraw(spec, actor, item.id)
        return item

    for year, state in ((2023, "withdrawn"), (2024, "approved"), (2025, "rejected"), (2026, "pending")):
        filed(training.PLAN, base, state, health, year=year, title=f"{year}年度卫生专业技术人员继续教育培训计划",
              content=f"{year}年计划举办临床技能、护理、公共卫生等培训班，面向全省卫生专业技术人员。",
              planned_programmes=12, planned_hours=960)
    filed(training.PLAN, edu_base, "pending", year=2026, title="2026年度中小学教师继续教育培训计划",
          content="面向全省中小学教师的师德师风、信息技术应用能力培训。", planned_programmes=8, planned_hours=480)
    for year, state in ((2022, "withdrawn"), (2023, "rejected"), (2024, "approved"), (2025, "pending")):
        filed(training.SUMMARY, base, state, health, year=year, text=f"{year}年度共举办培训班，学员反馈良好。",
              classes_held=10 + year % 5, trainees=800 + year % 7 * 10, hours_delivered=24_000)
    programmes = [
        ("approved", "急诊急救技能提升培训班", "professional", "offline", (2026, 3, 9), (2026, 3, 13), 40, "湖北省人民医院培训中心"),
        ("approved", "医务人员职业道德与法律法规", "public", "online", (2026, 1, 5), (2026, 12, 31), 12, "湖北省专业技术人员继续教育平台"),
        ("pending", "基层医疗机构护理质量管理", "professional", "offline", (2026, 5, 11), (2026, 5, 15), 32, "武汉市第一医院学术报告厅"),
        ("pending", "公共卫生应急管理专题", "public", "online", (2026, 6, 1), (2026, 11, 30), 16, "湖北省专业技术人员继续教育平台"),
        ("rejected", "医学影像诊断进阶班", "professional", "offline", (2026, 4, 6), (2026, 4, 10), 40, "湖北省卫生人才继续教育基地"),
        ("withdrawn", "中医适宜技术推广", "professional", "offline", (2026, 7, 6), (2026, 7, 8), 24, "湖北省中医院"),
    ]
    for state, name, kind, mode, start, end, hours, venue in programmes:
        filed(training.PROGRAMME, base, state, health, name=name, subject_kind=kind, mode=mode,
              start_date=datetime.date(*start), end_date=datetime.date(*end), hours=hours, planned_trainees=120,
              venue=venue, fee=800 if mode == "offline" else 0, description="")
    filed(training.PROGRAMME, hospital, "pending", name="院内新入职护士规范化培训", subject_kind="professional",
          mode="offline", start_date=datetime.date(2026, 9, 1), end_date=datetime.date(2026, 9, 30), hours=60,
          planned_trainees=80, venue="湖北省人民医院护理部", fee=0, description="本院新入职护士")
    filed(training.PROGRAMME, edu_base, "pending", name="中小学教师信息技术应用能力提升", subject_kind="professional",
          mode="online", start_date=datetime.date(2026, 3, 1), end_date=datetime.date(2026, 10, 31), hours=50,
          planned_trainees=3000, venue="湖北省专业技术人员继续教育平台", fee=0, description="")

    def employed(org_key, offset):
        return db.session.scalars(select(Person.id).where(Person.employer_id == orgs[org_key].id,
                                                          Person.account_id.is_(None),
                                                          Person.status == PersonStatus.active)
                                  .order_by(Person.id).offset(offset).limit(1)).one()

    today = datetime.date.today()
    # confirmed within 武汉市卫生健康委员会, rejected by 湖北省教育厅, and the pending one the demo accounts find in their lists
    moved = transfers.file_transfer(health, person_id=employed("wh_first", 0), to_org_id=orgs["wh_central"].id,
                                    reason="工作需要，调入武汉市中心医院", effective_date=today)
    decide("transfer", [moved.id], wuhan, "approve")
    refused = transfers.file_transfer(health, person_id=employed("union_hosp", 0), to_org_id=orgs["hubu"].id,
                                      reason="个人申请调动", effective_date=today)
    decide("transfer", [refused.id], edu, "reject", "本单位暂无编制，无法接收")
    transfers.file_transfer(hospital, person_id=employed("people_hosp", 5), to_org_id=orgs["whu"].id,
                            reason="调入武汉大学医学部任教", effective_date=today)
    # 年度工作材料: one awaiting the province, one awaiting 卫健委, one approved, one rejected
    filed(materials.MATERIAL, health, "pending", year=2026, title="2026年度卫生系统继续教育工作材料",
          remarks="含学习指南与工作通知")
    filed(materials.MATERIAL, wuhan, "approved", health, year=2025, title="2025年度武汉市卫生系统继续教育工作总结材料")
    filed(materials.MATERIAL, wuhan, "pending", year=2026, title="2026年度武汉市卫生系统继续教育学习指南")
    filed(materials.MATERIAL, edu, "rejected", province, year=2025, title="2025年度教育系统继续教育工作材料")


#: (employer key, how many persons get records) of the demo's credit hours
CREDIT_EMPLOYERS = (("people_hosp", 12), ("wh_first", 8), ("wh_central", 6), ("whu", 8), ("tcm_hosp", 4))


def _credit_hours(orgs) -> None:
    """学时: the rule of two years, records in every state, persons qualified and short, a few verifications."""
    from app.actor import Actor
    from app.models import (CreditDeclarer, CreditRecord, CreditVerification, LearningMode, ReviewStatus,
                            SubjectKind)
    from app.services.credit import summary
    from app.services.credit.settings import seed_credit_defaults
    from app.services.credit.verification import confirm_persons

    seed_credit_defaults()
    year = datetime.date.today().year
    last = year - 1
    base = orgs["health_base"]
    records, pairs = [], set()
    for org_key, count in CREDIT_EMPLOYERS:
        persons = db.session.scalars(select(Person).where(Person.employer_id == orgs[org_key].id,
                                                          Person.status == PersonStatus.active)
                                     .order_by(Person.id).limit(count)).all()
        for i, person in enumerate(persons):
            qualified = i % 3 != 2  # two in three meet last year's rule
            plan = [
                (last, SubjectKind.public, LearningMode.online, 30, "approved", "公需科目网络学习", None),
                (last, SubjectKind.professional, LearningMode.offline, 64 if qualified else 40, "approved",
                 "急诊急救技能提升培训班", base.id),
                (last, SubjectKind.professional, LearningMode.offline, 8, "rejected", "参加学术会议", None),
                (year, SubjectKind.public, LearningMode.online, 12, "approved", "医务人员职业道德与法律法规", base.id),
                (year, SubjectKind.professional, LearningMode.offline, 24 + i % 3 * 8, "pending",
                 "基层医疗机构护理质量管理", base.id),
            ]
            if i % 4 == 0:
                plan.append((year, SubjectKind.professional, LearningMode.online, 16, "pending", "发表学术论文", None))
            for n, (y, kind, mode, hours, state, activity, provider) in enumerate(plan):
                declarer = CreditDeclarer.training_base if provider else CreditDeclarer.person
                records.append(CreditRecord(
                    person_id=person.id, employer_id=person.employer_id, org_path=person.org_path, year=y,
                    subject_kind=kind, mode=mode, activity=activity, activity_key=f"T:{activity}:{n}", hours=hours,
                    completed_on=datetime.date(y, 3 + n, 10), provider_id=provider, declarer_type=declarer,
                    declarer_org_id=provider, status=ReviewStatus(state),
                    reject_reason="证明材料不清晰" if state == "rejected" else None,
                    reviewed_on=datetime.datetime(y, 6, 1) if state != "pending" else None))
                pairs.add((person.id, y))
    db.session.add_all(records)
    db.session.flush()
    summary.refresh(pairs)
    # a few verifications of last year by 湖北省卫生健康委员会: passed, failed, and one still pending
    health = Actor(db.session.scalar(select(Account).where(Account.username == "420102198503150020")))
    hospital_persons = db.session.scalars(select(Person.id).where(Person.employer_id == orgs["people_hosp"].id,
                                                                  Person.status == PersonStatus.active)
                                          .order_by(Person.id).limit(4)).all()
    confirm_persons(health, last, hospital_persons[:2], "approve")
    confirm_persons(health, last, hospital_persons[2:3], "reject", "专业科目学时不足")
    waiting = db.session.get(Person, hospital_persons[3])
    db.session.add(CreditVerification(person_id=waiting.id, employer_id=waiting.employer_id,
                                      org_path=waiting.org_path, year=last, public_hours=0, professional_hours=0,
                                      required_hours=90, required_professional_hours=60,
                                      status=ReviewStatus.pending))
    db.session.flush()


def _super_admin(org: Organisation, role: Role, seq: int) -> Account:
    """The super admin of a demo organisation that has none among the demo accounts."""
    user_type = {E: UserType.employer, T: UserType.training_base}.get(org.type, UserType.supervisory)
    admin = new_account(id_number=make_id_number("420200", datetime.date(1982, 6, 6), seq),
                        real_name="周" + {E: "院办", T: "基地办"}.get(org.type, "局办"), password="Demo@2026",
                        organisation=org, user_type=user_type, roles=[role], is_super_admin=True)
    db.session.add(admin)
    db.session.flush()
    return admin


def _demo_evidence(item, org, name: str, with_photo: bool) -> None:
    """A generated PDF (and a PNG) as the evidence of a title change, so the detail page shows attachments."""
    from app.actor import Actor
    from app.services import attachments

    files = [attachments.checked_bytes(f"{name}职称证书.pdf", demo_pdf(f"Demo certificate #{item.id}"))]
    if with_photo:
        files.append(attachments.checked_bytes(f"{name}证书照片.png", demo_png()))
    attachments.attach("review_request", item.id, org.path, files, actor=Actor.system())


def demo_pdf(text: str) -> bytes:
    """A one-page PDF with a line of (ASCII) text, built by hand: no PDF library needed."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def demo_png(width: int = 64, height: int = 40) -> bytes:
    """A small blue PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x2a\x6e\xbb" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def demo_world_exists() -> bool:
    return db.session.scalar(select(Organisation.id).limit(1)) is not None


def seed_demo(reset: bool = False) -> bool:
    """Seed the demo world; with reset, wipe products tables first. Returns whether it seeded."""
    with transaction():
        if reset:
            wipe_product_data()
        elif demo_world_exists():
            return False
        build_demo_world()
    return True


def wipe_product_data() -> None:
    """Delete every product row (accounts too); roles and permissions stay."""
    from app.models import Attachment, Job, OrganisationRole, ReviewRequest
    from app.services.custom_roles import remove_role_rows
    from app.storage import delete_after_commit

    for role_id in db.session.scalars(select(OrganisationRole.id).where(OrganisationRole.organisation_id.isnot(None))):
        remove_role_rows(role_id)
    for name in db.session.scalars(select(Attachment.server_name)):
        delete_after_commit(name)
    for name in db.session.scalars(select(Job.result_file).where(Job.result_file.isnot(None))):
        delete_after_commit(name)
    from app.models import (ApiBatch, Certificate, CreditRecord, CreditSummary, CreditVerification, Transfer,
                            TrainingPlan, TrainingProgramme, WorkMaterial, WorkSummary)

    for model in (Attachment, Job, AuditLog, ReviewRequest, ApiBatch, Certificate, CreditVerification, CreditSummary,
                  CreditRecord, Transfer, TrainingPlan, TrainingProgramme, WorkSummary,
                  WorkMaterial, Person):
        db.session.execute(delete(model))
    from app.services.statistics import aggregates

    aggregates.clear()  # the statistics aggregates of the persons and summaries just removed
    db.session.execute(delete(assoc_user_role))
    db.session.execute(delete(Account))
    db.session.execute(delete(InternalDepartment))
    # children before parents: deepest first
    for org_id in db.session.scalars(select(Organisation.id).order_by(Organisation.depth.desc())):
        db.session.execute(delete(Organisation).where(Organisation.id == org_id))


def print_demo_accounts(echo=print) -> None:
    echo("=" * 72)
    echo("演示账号（仅供演示，切勿用于生产环境！ Demo accounts: for demonstration only）")
    for id_number, password, name, org_key, user_type, role, _ in DEMO_ACCOUNTS:
        org_name = next(o[1] for o in ORGANISATIONS if o[0] == org_key)
        echo(f"  {str(user_type.label):<8} {id_number}  {password:<11} {org_name}（{role}）")
    echo("=" * 72)
