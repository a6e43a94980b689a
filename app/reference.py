"""Reference data: the 27 professional-title series of the national list (职称系列) and the title levels."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import TitleLevel, TitleSeries

TITLE_SERIES = [
    "高等学校教师", "哲学社会科学研究人员", "自然科学研究人员", "卫生技术人员", "工程技术人员",
    "农业技术人员", "新闻", "出版", "图书资料", "文物博物", "档案", "工艺美术", "技工院校教师",
    "体育", "翻译", "播音主持", "会计", "统计", "经济", "实验技术", "中等职业学校教师",
    "中小学教师", "艺术", "公共法律服务", "船舶", "民用航空飞行技术", "审计",
]

TITLE_LEVELS = [
    ("senior", "正高级"),
    ("associate_senior", "副高级"),
    ("intermediate", "中级"),
    ("assistant", "助理级"),
    ("junior", "员级"),
]


def seed_reference_data() -> None:
    """Insert missing series and levels; existing rows are kept (idempotent)."""
    have = set(db.session.scalars(select(TitleSeries.name)))
    for i, name in enumerate(TITLE_SERIES, start=1):
        if name not in have:
            db.session.add(TitleSeries(code=f"S{i:02d}", name=name, sort_order=i))
    have_levels = set(db.session.scalars(select(TitleLevel.code)))
    for i, (code, name) in enumerate(TITLE_LEVELS, start=1):
        if code not in have_levels:
            db.session.add(TitleLevel(code=code, name=name, sort_order=i))
    from app.services.credit.settings import seed_credit_defaults

    seed_credit_defaults()
