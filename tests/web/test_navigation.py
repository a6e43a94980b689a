"""The main menu in the manual's words and order, for each kind of user (issue 9 item 5)."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.conftest import BASE_ID, DEMO_PASSWORD, HEALTH_ID, HOSPITAL_ID, PROVINCE_ID, login
from tests.web.test_chinese_ui import english_words


class MenuTree(HTMLParser):
    """[(module, [(sub-module or None, [(entry, href), ...]), ...]), ...] of #main-menu-tree."""

    def __init__(self):
        super().__init__()
        self.sections: list = []
        self.capture = None
        self.depth = 0
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if attrs.get("id") == "main-menu-tree":
            self.inside = True
        if not self.inside:
            return
        if "gov-menu-section-title" in classes:
            self.sections.append(["", []])
            self.capture = "section"
        elif "gov-menu-group-title" in classes:
            self.sections[-1][1].append(["", []])
            self.capture = "group"
        elif "gov-menu-direct" in classes:
            groups = self.sections[-1][1]
            if not groups or groups[-1][0] is not None:
                groups.append([None, []])
        elif tag == "a" and "data-menu" in attrs:
            self.sections[-1][1][-1][1].append(["", attrs["href"]])
            self.capture = "link"

    def handle_endtag(self, tag):
        if tag in ("a", "span") and self.capture in ("section", "group", "link") and (
                tag == "a" or self.capture == "group"):
            self.capture = None
        if tag == "ul" and self.inside and self.capture is None and not self.sections:
            self.inside = False

    def handle_data(self, data):
        text = data.strip()
        if not text or self.capture is None:
            return
        if self.capture == "section":
            self.sections[-1][0] += text
        elif self.capture == "group":
            self.sections[-1][1][-1][0] += text
        elif self.capture == "link":
            self.sections[-1][1][-1][1][-1][0] += text


def menu_of(page: str) -> list:
    parser = MenuTree()
    parser.feed(page)
    return [(section, [(group, [tuple(link) for link in links]) for group, links in groups])
            for section, groups in parser.sections]


def labels(menu) -> list:
    return [(section, [(group, [label for label, _ in links]) for group, links in groups])
            for section, groups in menu]


#: what every department sees under 账户管理 (manual 5.1), with the reviews registered today
ACCOUNT_MANAGEMENT = [
    ("本级机构管理", ["基本信息管理", "管理内设部门", "管理单位管理员", "角色管理"]),
    ("下属机构管理", ["下属单位及其管理员", "机构档案（含下级主管部门）", "专技人员档案"]),
    ("注册审核管理", ["专技人员注册审核", "下属单位注册审核", "继教基地注册审核", "主管部门注册审核"]),
    ("变更审核管理", ["人员信息修改审核", "机构信息修改审核", "更换上级部门审核"]),
    ("培训计划管理", ["审核继教机构年度培训计划", "审核培训计划申报", "审核继教机构年度工作总结"]),
    ("人员调转", ["人员调入审核", "人员调出", "调转记录"]),
]
#: 年度工作材料报送 (manual 5.3): the own materials first, then those of the departments below
WORK_MATERIALS = ("年度工作材料报送", [(None, ["年度工作材料报送", "年度工作材料审核"])])
#: 查询统计 (manual 5.4)
STATISTICS = ("查询统计", [(None, ["继教综合统计查询", "职称系列分布查询", "专技人员信息查询", "电子证书查询打印"])])


def _with_audit_log(groups):
    own, *rest = groups
    return [(own[0], own[1] + ["审计日志"]), *rest]


def test_province_sees_account_management_then_system_management(client_for):
    menu = menu_of(client_for(PROVINCE_ID).get("/").get_data(as_text=True))
    assert labels(menu) == [
        ("账户管理", ACCOUNT_MANAGEMENT),
        ("学时学分审核", [(None, ["学时学分审核"])]),
        ("学时审验", [(None, ["审验记录", "年度学时审验"])]),
        WORK_MATERIALS,
        STATISTICS,
        ("我的任务", [(None, ["我的任务"])]),
        ("系统管理", [(None, ["全部登录账号", "系统角色", "审计日志", "接口文档", "年度学时要求", "授分标准"])]),
    ]
    links = dict(link for _, groups in menu for _, entries in groups for link in entries)
    assert links["基本信息管理"] == "/ownorganisation/show/"
    assert links["管理内设部门"] == "/departments/list/"
    assert links["全部登录账号"] == "/users/list/"


def test_a_department_sees_the_manuals_modules_without_system_management(client_for):
    page = client_for(HEALTH_ID).get("/").get_data(as_text=True)
    assert labels(menu_of(page)) == [("账户管理", _with_audit_log(ACCOUNT_MANAGEMENT)),
                                     ("学时学分审核", [(None, ["学时学分审核"])]),
                                     ("学时审验", [(None, ["审验记录", "年度学时审验"])]), WORK_MATERIALS,
                                     STATISTICS, ("我的任务", [(None, ["我的任务"])])]
    # no bare 管理员账号 or 机构管理 beside 管理单位管理员 and 下属机构管理
    assert "/users/list/" not in page and ">管理员账号<" not in page and ">机构管理<" not in page


def test_an_employer_unit_sees_its_own_unit_and_people(client_for):
    menu = menu_of(client_for(HOSPITAL_ID).get("/").get_data(as_text=True))
    assert labels(menu) == [("单位管理", [
        ("本单位管理", ["基本信息管理", "管理内设部门", "管理单位管理员", "角色管理", "审计日志"]),
        ("人员管理", ["本单位专技人员"]),
        ("人员调转", ["人员调入审核", "人员调出", "调转记录"]),
        ("培训计划申报", ["培训计划申报"]),
    ]), ("学时学分", [(None, ["学时申报"])]),
        # a unit has no subordinate departments: no 继教综合统计查询
        ("查询统计", [(None, ["职称系列分布查询", "专技人员信息查询", "电子证书查询打印"])]),
        ("我的任务", [(None, ["我的任务"])])]


def test_a_training_base_sees_its_own_base(client_for):
    menu = menu_of(client_for(BASE_ID).get("/").get_data(as_text=True))
    assert labels(menu) == [("基地管理", [
        ("本基地管理", ["基本信息管理", "管理内设部门", "管理单位管理员", "角色管理", "审计日志"]),
    ]), ("培训计划管理", [(None, ["年度培训计划报送", "培训计划申报", "年度工作总结报送"])]),
        ("学时学分", [(None, ["学时申报"])]), ("我的任务", [(None, ["我的任务"])])]


def test_personnel_see_their_personal_centre(app):
    from app.extensions import db
    from app.models import Account, UserType

    with app.app_context():
        id_number = db.session.query(Account.username).filter(
            Account.user_type == UserType.personnel, Account.active.is_(True)).order_by(Account.id).first()[0]
    client = app.test_client()
    assert "/login" not in login(client, id_number, DEMO_PASSWORD, "personnel").headers["Location"]
    menu = menu_of(client.get("/me/").get_data(as_text=True))
    assert labels(menu) == [("个人中心", [(None, ["我的信息", "我的学时", "学时申报"])])]


@pytest.mark.parametrize("id_number", [PROVINCE_ID, HEALTH_ID, HOSPITAL_ID, BASE_ID])
def test_every_menu_entry_opens_a_chinese_page(client_for, id_number):
    client = client_for(id_number)
    menu = menu_of(client.get("/").get_data(as_text=True))
    for _, groups in menu:
        for _, links in groups:
            for label, href in links:
                if href.startswith("/swagger"):
                    continue
                response = client.get(href)
                assert response.status_code == 200, (label, href)
                assert english_words(response.get_data(as_text=True)) == set(), (label, href)


def test_the_header_names_the_platform_and_the_viewers_organisation(client_for):
    page = client_for(HEALTH_ID).get("/persons/list/").get_data(as_text=True)
    header = page[page.index('<header class="gov-header"'):page.index("</header>")]
    assert "专业技术人员继续教育公共服务平台" in header and "湖北省卫生健康委员会" in header
    assert 'id="main-menu-tree"' in page


def test_row_actions_are_labelled(client_for):
    page = client_for(HEALTH_ID).get("/persons/list/").get_data(as_text=True)
    assert ">操作<" in page
    for words in ("查看", "编辑", "删除"):
        assert f"</i> {words}" in page
    assert "onclick=" not in page and "data-delete-url=" in page


def test_no_page_loads_anything_from_another_server(client_for):
    import re

    page = client_for(HEALTH_ID).get("/").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not re.match(r"(https?:)?//", url), url


# ------------------------------------------------------------------ what later features get for free
def _fake_menu(items):
    """A FAB menu with entries registered under categories, as add_view does."""
    from flask_appbuilder.menu import Menu

    menu = Menu()
    for name, category in items:
        menu.add_link(name, href=f"/{name.lower().replace(' ', '-')}/", label=name, category=category)
    return menu


def test_an_entry_registered_under_a_category_appears_in_its_module_in_order(app_ctx):
    from app.navigation import CREDIT_HOURS, OWN_ORGANISATION, TRANSFERS, visible_tree

    menu = _fake_menu([("Basic information", OWN_ORGANISATION), ("Transfer out", TRANSFERS),
                       ("Transfer in review", TRANSFERS), ("Credit review", CREDIT_HOURS),
                       ("Secret", CREDIT_HOURS)])
    permissions = frozenset(("menu_access", name) for name in
                            ("Basic information", "Transfer out", "Transfer in review", "Credit review"))
    tree = visible_tree(menu, "supervisory", permissions)
    assert [(s.label, [(g.label, [link.name for link in g.links]) for g in s.groups]) for s in tree] == [
        ("账户管理", [("本级机构管理", ["Basic information"]),
                  ("人员调转", ["Transfer out", "Transfer in review"])]),
        ("学时学分审核", [(None, ["Credit review"])]),      # "Secret": no permission, absent
    ]
    # 系统管理 is the province's only; employers have their own wording for the same category
    assert [s.label for s in visible_tree(menu, "employer", permissions)] == ["单位管理", "学时学分"]


def test_every_registered_entry_has_a_place_in_some_menu(app_ctx):
    from flask import current_app

    from app.navigation import TREES, visible_tree

    menu = current_app.appbuilder.menu
    names = {item.name for category in menu.get_list() for item in (category.childs or [category])}
    everything = frozenset(("menu_access", name) for name in names)
    with current_app.test_request_context():
        shown = {link.name for kind in TREES for section in visible_tree(menu, kind, everything)
                 for link in section.links}
    assert names - shown == set()
