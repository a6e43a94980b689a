"""The main menu in the manual's words and order, one tree per kind of user.

A tree has three levels: a module (账户管理, 学时学分审核 …), its sub-modules and their entries.
Each sub-module is a Flask-AppBuilder menu *category*: a view joins it with
``appbuilder.add_view(View, "Name", label=..., **category(CREDIT_HOURS))`` and appears there, for
the viewers whose permissions include its ``menu_access``, without touching this file. The tree
only names entries whose place or wording differs from "after the named ones, in registration
order", and entries placed outside the category they were registered in (e.g. 审计日志).
Nothing is shown that is not registered: a module whose features have not landed is absent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from flask_babel import lazy_gettext as _l

# ------------------------------------------------------------------ category keys (FAB category names)
OWN_ORGANISATION = "Own organisation"          # 本级机构管理
SUBORDINATES = "Subordinate organisations"     # 下属机构管理
REGISTRATION_REVIEW = "Registration review"    # 注册审核管理
CHANGE_REVIEW = "Change review"                # 变更审核管理
TRAINING_PLANS = "Training plans"              # 培训计划管理
TRANSFERS = "Transfers"                        # 人员调转
CREDIT_HOURS = "Credit hours"                  # 学时学分审核
VERIFICATION = "Verification"                  # 学时审验
WORK_MATERIALS = "Work materials"              # 年度工作材料报送
STATISTICS = "Statistics"                      # 查询统计
MY_JOBS = "My jobs"                            # 我的任务
SYSTEM = "System"                              # 系统管理 (province only)
MY_INFORMATION = "My information"              # 个人中心 (personnel)

#: the label and icon FAB records for each category (the tree below gives the words users read)
CATEGORIES = {
    OWN_ORGANISATION: (_l("Own organisation"), "fa-university"),
    SUBORDINATES: (_l("Subordinate organisations"), "fa-sitemap"),
    REGISTRATION_REVIEW: (_l("Registration review"), "fa-user-plus"),
    CHANGE_REVIEW: (_l("Change review"), "fa-pencil-square-o"),
    TRAINING_PLANS: (_l("Training plans"), "fa-calendar"),
    TRANSFERS: (_l("Transfers"), "fa-exchange"),
    CREDIT_HOURS: (_l("Credit hours review"), "fa-check-square-o"),
    VERIFICATION: (_l("Credit hours verification"), "fa-certificate"),
    WORK_MATERIALS: (_l("Annual work materials"), "fa-folder-open"),
    STATISTICS: (_l("Queries and statistics"), "fa-bar-chart"),
    MY_JOBS: (_l("My jobs"), "fa-tasks"),
    SYSTEM: (_l("System management"), "fa-cogs"),
    MY_INFORMATION: (_l("My information"), "fa-user"),
}


def category(key: str) -> dict:
    """Keyword arguments of ``add_view``/``add_link`` that put an entry into a category."""
    label, icon = CATEGORIES[key]
    return {"category": key, "category_label": label, "category_icon": icon}


# ------------------------------------------------------------------ the trees
@dataclass(frozen=True)
class Entry:
    """A menu entry by its FAB name; ``label`` overrides FAB's label in this tree."""

    name: str
    label: Optional[object] = None
    #: shown indented under the entry before it (角色管理 belongs to 管理单位管理员)
    nested: bool = False


@dataclass(frozen=True)
class Group:
    """A sub-module: the entries registered in FAB category ``key`` (plus the named ones)."""

    key: str
    label: Optional[object]
    entries: tuple = ()


@dataclass(frozen=True)
class Section:
    """A module of the manual; a group without a label shows its entries directly under it."""

    label: object
    icon: str
    groups: tuple


#: entries of the registration- and change-review sub-modules (manual 5.1.3, 5.1.4)
_REGISTRATION_REVIEWS = (Entry("Personnel registration review"), Entry("Unit registration review"),
                         Entry("Training base registration review"), Entry("Department registration review"))
_CHANGE_REVIEWS = (Entry("Personnel change review"), Entry("Organisation change review"),
                   Entry("Parent change review"))


def _own_organisation(label, audit_label=_l("Audit log")) -> Group:
    return Group(OWN_ORGANISATION, label, (
        Entry("Basic information", _l("Basic information management")),
        Entry("Internal departments", _l("Manage internal departments")),
        Entry("Administrators", _l("Manage unit administrators")),
        Entry("Custom roles", _l("Role management"), nested=True),
        Entry("Audit log", audit_label),
    ))


def _department_tree(province: bool) -> tuple:
    """主管部门 (manual section 5) and the province, which also has 系统管理."""
    own = _own_organisation(_l("Own organisation management"))
    if province:  # the province's audit log sits in 系统管理
        own = Group(own.key, own.label, tuple(e for e in own.entries if e.name != "Audit log"))
    sections = [
        Section(_l("Account management"), "fa-sitemap", (
            own,
            Group(SUBORDINATES, _l("Subordinate organisation management"), (
                Entry("Units and bases", _l("Units and bases, their administrators")),
                Entry("Organisations", _l("Organisation records (all levels)")),
                Entry("Persons", _l("Personnel records")),
            )),
            Group(REGISTRATION_REVIEW, _l("Registration review management"), _REGISTRATION_REVIEWS),
            Group(CHANGE_REVIEW, _l("Change review management"), _CHANGE_REVIEWS),
            Group(TRAINING_PLANS, _l("Training plan management")),
            Group(TRANSFERS, _l("Personnel transfers")),
        )),
        Section(_l("Credit hours review"), "fa-check-square-o", (Group(CREDIT_HOURS, None),)),
        Section(_l("Credit hours verification"), "fa-certificate", (Group(VERIFICATION, None),)),
        Section(_l("Annual work materials"), "fa-folder-open", (Group(WORK_MATERIALS, None, (
            Entry("Annual work material submission"), Entry("Work material review"))),)),
        Section(_l("Queries and statistics"), "fa-bar-chart", (Group(STATISTICS, None),)),
        Section(_l("My jobs"), "fa-tasks", (Group(MY_JOBS, None),)),
    ]
    if province:
        sections.append(Section(_l("System management"), "fa-cogs", (Group(SYSTEM, None, (
            Entry("Accounts", _l("All login accounts")),
            Entry("Roles"),
            Entry("Audit log"),
            Entry("API docs"),
        )),)))
    return tuple(sections)


TREES: dict[str, tuple] = {
    "province": _department_tree(province=True),
    "supervisory": _department_tree(province=False),
    # 用人单位: its own organisation and people, what it files (transfers, plans, hours)
    "employer": (
        Section(_l("Unit management"), "fa-building", (
            _own_organisation(_l("Own unit management")),
            Group(SUBORDINATES, _l("Personnel management"), (Entry("Persons", _l("Personnel of the unit")),)),
            Group(TRANSFERS, _l("Personnel transfers")),
            Group(TRAINING_PLANS, _l("Training plan declaration")),
        )),
        Section(_l("Credit hours"), "fa-check-square-o", (Group(CREDIT_HOURS, None),)),
        Section(_l("Queries and statistics"), "fa-bar-chart", (Group(STATISTICS, None),)),
        Section(_l("My jobs"), "fa-tasks", (Group(MY_JOBS, None),)),
    ),
    # 继续教育基地: its own organisation, its plans and summaries, the hours of its trainees
    "training_base": (
        Section(_l("Base management"), "fa-graduation-cap", (_own_organisation(_l("Own base management")),)),
        Section(_l("Training plan management"), "fa-calendar", (Group(TRAINING_PLANS, None),)),
        Section(_l("Credit hours"), "fa-check-square-o", (Group(CREDIT_HOURS, None),)),
        Section(_l("My jobs"), "fa-tasks", (Group(MY_JOBS, None),)),
    ),
    # 专技人员: their own record and learning
    "personnel": (
        Section(_l("Personal centre"), "fa-user", (Group(MY_INFORMATION, None, (Entry("My record"),)),)),
        Section(_l("Credit hours"), "fa-check-square-o", (Group(CREDIT_HOURS, None),)),
        Section(_l("My jobs"), "fa-tasks", (Group(MY_JOBS, None),)),
    ),
}

#: names some tree places on purpose: never pulled into another tree through their category
PLACED = frozenset(e.name for tree in TREES.values() for s in tree for g in s.groups for e in g.entries)


def tree_kind(user) -> Optional[str]:
    """Which tree a signed-in user gets: by user type, the province's admins their own."""
    if user is None or not getattr(user, "is_authenticated", False) or user.user_type is None:
        return None
    kind = user.user_type.value
    org = getattr(user, "organisation", None)
    if kind == "supervisory" and org is not None and org.type.value == "province":
        return "province"
    return kind


# ------------------------------------------------------------------ what a viewer sees
@dataclass
class Link:
    name: str
    label: str
    url: str
    icon: str = ""
    nested: bool = False


@dataclass
class VisibleGroup:
    key: str
    label: Optional[str]
    links: list


@dataclass
class VisibleSection:
    label: str
    icon: str
    groups: list

    @property
    def links(self) -> list:
        return [link for group in self.groups for link in group.links]


def _children(menu, key: str) -> list:
    item = menu.find(key)
    return [c for c in (item.childs if item is not None else []) if c.name != "-"]


def _group_items(menu, group: Group, tree_names: frozenset) -> Iterable[tuple]:
    """(menu item, entry) in order: the named entries, then the others registered under the key."""
    for entry in group.entries:
        item = menu.find(entry.name)
        if item is not None and not item.childs:
            yield item, entry
    for item in _children(menu, group.key):
        if item.name not in tree_names and item.name not in PLACED:
            yield item, Entry(item.name)


def visible_tree(menu, kind: Optional[str], permissions: frozenset) -> list[VisibleSection]:
    """The tree for one kind of user, keeping the entries their permissions open, empty parts dropped."""
    sections = []
    tree = TREES.get(kind or "", ())
    tree_names = frozenset(e.name for s in tree for g in s.groups for e in g.entries)
    for section in tree:
        groups = []
        for group in section.groups:
            links = [
                Link(item.name, str(entry.label or item.label), item.get_url(), item.icon or "", entry.nested)
                for item, entry in _group_items(menu, group, tree_names)
                if ("menu_access", item.name) in permissions and item.should_render()
            ]
            if links:
                groups.append(VisibleGroup(group.key, str(group.label) if group.label else None, links))
        if groups:
            sections.append(VisibleSection(str(section.label), section.icon, groups))
    return sections


def placement(kind: str) -> dict[str, tuple[str, Optional[str], str]]:
    """Entry name -> (module, sub-module, entry label) in a tree, for entries the tree names."""
    from flask import current_app

    menu = current_app.appbuilder.menu
    where = {}
    for section in TREES.get(kind, ()):
        for group in section.groups:
            for item, entry in _group_items(menu, group, frozenset()):
                where.setdefault(item.name, (str(section.label), str(group.label) if group.label else None,
                                             str(entry.label or item.label)))
    return where
