"""The fixed demo world of DESIGN.md §6, so anyone can try the product."""
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
}

#: which series each employer's people mostly hold
EMPLOYER_SERIES = {
    "people_hosp": ["卫生技术人员"], "union_hosp": ["卫生技术人员"], "wh_first": ["卫生技术人员"],
    "wh_central": ["卫生技术人员", "会计"], "whu": ["高等学校教师", "自然科学研究人员", "实验技术"],
    "hubu": ["高等学校教师", "哲学社会科学研究人员", "图书资料"], "wh_no2": ["中小学教师"],
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
    for model in (AuditLog, Person):
        db.session.execute(delete(model))
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
        echo(f"  {user_type.label:<8} {id_number}  {password:<11} {org_name}（{role}）")
    echo("=" * 72)
