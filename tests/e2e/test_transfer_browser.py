"""人员调出 → 人员调入审核 → 调转记录 in headless Chromium: the pickers, the dialogs and the pages for real."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from tests.conftest import EDU_ID, HOSPITAL_ID
from tests.e2e.test_browser import (  # noqa: F401
    _login, _scratch, _wait, browser, server, server_screenshot_path)

pytestmark = pytest.mark.e2e


def _hospital_person(app):
    from app.extensions import db
    from app.models import Organisation, Person, PersonStatus

    with app.app_context():
        person = db.session.scalars(select(Person).join(Organisation, Organisation.id == Person.employer_id)
                                    .where(Organisation.name == "湖北省人民医院", Person.status == PersonStatus.active,
                                           Person.account_id.is_(None))
                                    .order_by(Person.id).offset(15).limit(1)).one()
        return person.id, person.name, person.id_number


def _select2(browser, select_id, term, choose):
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, f"#{select_id} + .select2 .select2-selection").click()
    browser.find_element(By.CSS_SELECTOR, ".select2-container--open .select2-search__field").send_keys(term)

    def pick(driver):
        """Results re-render while the search settles: find and click in one go (a stale one is retried)."""
        for option in driver.find_elements(By.CSS_SELECTOR, ".select2-results__option"):
            if choose in option.text:
                option.click()
                return True
        return False

    _wait(browser).until(pick)


def test_transfer_out_confirm_and_record_in_the_browser(app, browser, server, fresh_world):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    person_id, name, id_number = _hospital_person(app)
    # 人员调出 by the hospital's admin
    _login(browser, server, HOSPITAL_ID, "Demo@2026", "用人单位")
    browser.get(server + "/transfers/out/add")
    _select2(browser, "person_id", id_number[:14], id_number)
    _wait(browser).until(lambda d: d.find_element(By.ID, "card-id_number").text == id_number)
    assert browser.find_element(By.ID, "card-employer").text == "湖北省人民医院"
    _select2(browser, "to_org_id", "湖北大学", "湖北大学（用人单位）")
    browser.find_element(By.ID, "reason").send_keys("调入湖北大学商学院任教")
    browser.execute_script("document.getElementById('effective_date').value = arguments[0]",
                           datetime.date.today().isoformat())
    browser.save_screenshot(str(server_screenshot_path("transfer-out")))
    browser.find_element(By.ID, "transfer-submit").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "modal-confirm").is_displayed())
    browser.find_element(By.ID, "modal-confirm-ok").click()
    _wait(browser).until(lambda d: "/transfers/out/show/" in d.current_url)
    assert "调出申请已提交" in browser.page_source and "待审核" in browser.find_element(By.ID, "status-text").text

    # 人员调入审核 by 湖北省教育厅 (above 湖北大学): detail, internal department, 确认调转
    _login(browser, server, EDU_ID, "Demo@2026", "主管部门")
    browser.get(server + "/review/transfer/list/")

    def open_detail(driver):
        for row in driver.find_elements(By.CSS_SELECTOR, "table tr"):
            if id_number in row.text:
                row.find_element(By.CSS_SELECTOR, "a[href*='/review/transfer/show/']").click()
                return True
        return False

    _wait(browser).until(open_detail)
    _wait(browser).until(lambda d: d.find_elements(By.ID, "department_id"))
    assert id_number in browser.page_source
    Select(browser.find_element(By.ID, "department_id")).select_by_visible_text("商学院")
    browser.find_element(By.ID, "approve-one").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "modal-confirm").is_displayed())
    assert "确认调转" in browser.find_element(By.CSS_SELECTOR, "#modal-confirm .modal-text").text
    browser.find_element(By.ID, "modal-confirm-ok").click()
    _wait(browser).until(lambda d: "已处理 1 条" in d.page_source)

    # 调转记录: the incoming record, confirmed
    browser.get(server + "/transfers/records/list/?direction=in")
    row = _wait(browser).until(lambda d: next(
        (r for r in d.find_elements(By.CSS_SELECTOR, "table tr") if id_number in r.text), False))
    assert "已通过" in row.text and "调入" in row.text and "湖北省人民医院" in row.text
    browser.save_screenshot(str(server_screenshot_path("transfer-records")))
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        person = db.session.get(Person, person_id)
        assert person.employer.name == "湖北大学" and person.internal_department.name == "商学院"
        assert person.org_path == person.employer.path
