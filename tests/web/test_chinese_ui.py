"""Every page a user sees is Chinese: no English UI words in visible text."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import HEALTH_ID, PROVINCE_ID

#: ASCII words allowed in visible text (abbreviations users know, and data)
ALLOWED = {"API", "ID", "Excel", "PDF", "JSON", "OpenAPI", "Swagger", "JWT", "Word", "JPG", "PNG", "ZIP", "MB", "KB"}


class VisibleText(HTMLParser):
    """Collects text a user can read: text nodes outside script/style, and labels in attributes."""

    def __init__(self):
        super().__init__()
        self.skip = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript"):
            self.skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "alt", "data-original-title") and value:
                self.chunks.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button"):
                self.chunks.append(value or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def english_words(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.chunks)
    tokens = re.findall(r"[A-Za-z0-9']+", text)
    # tokens with digits are data (codes, numbers), not UI words
    return {t for t in tokens if len(t) > 1 and t.isalpha() and t not in ALLOWED}


def _first_id(app, model):
    from app.extensions import db

    with app.app_context():
        return db.session.query(model.id).order_by(model.id).first()[0]


def test_login_page_is_chinese(app):
    page = app.test_client().get("/login/").get_data(as_text=True)
    assert english_words(page) == set()
    assert "用户类型" in page and "身份证号" in page


def test_registration_page_is_chinese(app):
    page = app.test_client().get("/register/supervisory").get_data(as_text=True)
    assert english_words(page) == set()


@pytest.mark.parametrize("base", ["/organisations", "/departments", "/persons", "/users", "/roles"])
def test_crud_pages_are_chinese(app, client_for, base):
    from app.models import Account, InternalDepartment, Organisation, Person
    from flask_appbuilder.security.sqla.models import Role

    model = {"/organisations": Organisation, "/departments": InternalDepartment, "/persons": Person,
             "/users": Account, "/roles": Role}[base]
    pk = _first_id(app, model)
    # 管理内设部门 shows the viewer's own departments: the first one is 湖北省卫生健康委员会's
    client = client_for(HEALTH_ID if base == "/departments" else PROVINCE_ID)
    # accounts are read-only here (issue 8): no generic add / edit screen
    urls = (f"{base}/list/", f"{base}/show/{pk}") if base == "/users" else (
        f"{base}/list/", f"{base}/add", f"{base}/edit/{pk}", f"{base}/show/{pk}")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        words = english_words(response.get_data(as_text=True))
        assert words == set(), f"{url}: {sorted(words)}"


@pytest.mark.parametrize("url", ["/", "/resetmypassword/form", "/users/userinfo/"])
def test_own_pages_are_chinese(app, client_for, url):
    response = client_for(HEALTH_ID).get(url)
    assert response.status_code == 200
    assert english_words(response.get_data(as_text=True)) == set()


def test_validation_errors_are_chinese(app, client_for):
    response = client_for(PROVINCE_ID).post("/persons/add", data={"id_number": "123", "name": ""})
    page = response.get_data(as_text=True)
    assert "身份证号" in page
    assert english_words(page) == set()
