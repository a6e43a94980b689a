"""End to end in headless Chromium: real pages, real clicks."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import HEALTH_ID

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                  "--lang=zh-CN"]


@pytest.fixture(scope="module")
def server(app):
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # no implicit wait: it makes every empty lookup sleep; waits are explicit (_find, _wait)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def _login(browser, server, id_number, password, user_type_label):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(server + "/login/")
    for label in browser.find_elements(By.CSS_SELECTOR, "label.radio-inline"):
        if user_type_label in label.text:
            label.click()
    _find(browser, By.ID, "username").send_keys(id_number)
    _find(browser, By.ID, "password").send_keys(password)
    _find(browser, By.ID, "login-submit").click()

    # signed in (left the login page), or refused (the login page again, with a flashed message)
    _wait(browser).until(lambda d: "/login" not in d.current_url
                                     or d.find_elements(By.CSS_SELECTOR, ".alert-warning, .alert-danger"))


def _wait(browser, timeout=15):
    """Pages reload under the test: an element gone stale means 'not yet', not failure."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def _find(browser, by, selector, timeout=15):
    """The element once the page has it: pages load after clicks, so every lookup waits explicitly."""
    return _wait(browser, timeout).until(lambda d: d.find_element(by, selector))


def _click_when_visible(browser, by, selector, timeout=15):
    """Bootstrap panels and dropdowns animate: click once the element is really there."""

    element = _wait(browser, timeout).until(
        lambda d: next((e for e in d.find_elements(by, selector) if e.is_displayed()), False))
    element.click()


def test_admin_logs_in_sees_dashboard_and_reaches_change_password(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    assert _find(browser, By.ID, "home-org").text == "湖北省卫生健康委员会"
    assert int(_find(browser, By.ID, "count-persons").text) > 0
    browser.save_screenshot(str(server_screenshot_path("home")))
    _find(browser, By.ID, "user-menu").click()
    _find(browser, By.ID, "menu-change-password").click()
    assert "原密码" in browser.page_source
    _find(browser, By.ID, "user-menu").click()
    _find(browser, By.ID, "menu-logout").click()
    assert "/login" in browser.current_url


def test_wrong_user_type_is_refused_in_the_browser(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "用人单位")
    assert "/login" in browser.current_url
    assert "所选用户类型与该账号不符" in _find(browser, By.TAG_NAME, "body").text


def test_person_list_is_scoped_and_chinese(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.get(server + "/persons/list/")
    body = _find(browser, By.TAG_NAME, "body").text
    assert "专技人员" in body and "武汉大学" not in body
    browser.save_screenshot(str(server_screenshot_path("persons")))


def test_parent_picker_searches_as_you_type(browser, server):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(server + "/register/supervisory")
    _find(browser, By.CSS_SELECTOR, "#parent_id + .select2 .select2-selection").click()
    search = _find(browser, By.CSS_SELECTOR, ".select2-search__field")
    search.send_keys("教育")

    def settled(driver):
        text = driver.find_element(By.CSS_SELECTOR, ".select2-results").text
        return text if "湖北省教育厅" in text and "正在搜索" not in text and "卫生" not in text else False

    results = _wait(browser).until(settled)
    assert "武汉市教育局" in results
    browser.save_screenshot(str(server_screenshot_path("register")))


def server_screenshot_path(name):
    """Screenshots are kept only when SCREENSHOT_DIR asks for them; otherwise they go nowhere."""
    import os

    folder = os.environ.get("SCREENSHOT_DIR") or _SCRATCH[0]
    return os.path.join(folder, f"jijiao-{name}.png")


#: the module's scratch folder (a pytest tmp folder, removed after the session)
_SCRATCH: list = []


@pytest.fixture(scope="module", autouse=True)
def _scratch(tmp_path_factory):
    _SCRATCH[:] = [str(tmp_path_factory.mktemp("screenshots"))]
    yield


def test_list_filter_picks_an_employer_by_search_and_keeps_it(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, "42010219900601003X", "Demo@2026", "主管部门")
    browser.get(server + "/persons/list/")
    _click_when_visible(browser, By.CSS_SELECTOR, "a.accordion-toggle[href='#accordion1_href']")  # open the 查询 panel (the menu's 查询统计 says 查询 too)
    _click_when_visible(browser, By.CSS_SELECTOR, "#filter_form .dropdown-toggle")
    _click_when_visible(browser, By.CSS_SELECTOR, "a.filter[name='employer']")
    _wait(browser).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, "select[data-url].select2-hidden-accessible"))
    _find(browser, By.CSS_SELECTOR, "select[data-url] + .select2 .select2-selection").click()
    _find(browser, By.CSS_SELECTOR, ".select2-search__field").send_keys("湖北")
    option = _wait(browser).until(lambda d: next(
        (o for o in d.find_elements(By.CSS_SELECTOR, ".select2-results__option") if o.text == "湖北大学"), False))
    option.click()
    _find(browser, By.CSS_SELECTOR, "#filter_form button[type=submit]").click()
    _wait(browser).until(lambda d: "_flt_" in d.current_url)
    rows = browser.find_elements(By.XPATH, "//tr[.//a[contains(@href, '/persons/show/')]]")
    assert rows and all("湖北大学" in row.text for row in rows)
    browser.save_screenshot(str(server_screenshot_path("filter")))
    # the applied filter shows its chosen unit again after the reload
    _wait(browser).until(lambda d: "湖北大学" in d.find_element(
        By.CSS_SELECTOR, "#filter_form select[data-url] + .select2 .select2-selection").get_attribute("textContent"))


def test_reviewer_approves_a_title_change_from_its_detail_page(browser, server, fresh_world):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.get(server + "/review/person_change/list/")
    _find(browser, By.CSS_SELECTOR, "a[href*='/review/person_change/show/']").click()
    _find(browser, By.ID, "tab-changes").click()
    table = _find(browser, By.ID, "changes-table").text
    assert "职称级别" in table and "副高级" in table
    _find(browser, By.ID, "approve-one").click()
    # the decision asks first, in the same styled dialog the batch actions use
    _wait(browser).until(lambda d: d.find_element(By.ID, "modal-confirm").is_displayed())
    assert "通过" in browser.find_element(By.CSS_SELECTOR, "#modal-confirm .modal-text").text
    _find(browser, By.ID, "modal-confirm-ok").click()
    _wait(browser).until(lambda d: "已处理 1 条" in d.page_source)
    assert "/review/person_change/list/" in browser.current_url      # back to the list it came from
    browser.save_screenshot(str(server_screenshot_path("approved")))


def test_batch_action_without_a_selection_says_so_in_chinese(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.get(server + "/review/person_registration/list/")
    _find(browser, By.XPATH, "//*[contains(@class, 'dropdown-toggle') and contains(., '操作')]").click()
    _find(browser, By.XPATH, "//a[contains(., '审核通过')]").click()
    _wait(browser).until(lambda d: "未选择任何记录" in d.find_element(By.ID, "modal-alert").text)


def test_import_preview_follows_a_background_job_and_lists_the_bad_row(browser, server, app, tmp_path):
    """A person import run as a job: the progress bar updates, the page shows the bad row, then imports."""
    import datetime

    from selenium.webdriver.common.by import By

    from app.validators import make_id_number
    from tests.support.xlsx import workbook_bytes

    good = [make_id_number("420117", datetime.date(1988, 5, 6), 700 + i) for i in range(3)]
    rows = [[number, f"浏览器{i}", "", "大学本科", "湖北省人民医院", "", "卫生技术人员", "中级", "", ""]
            for i, number in enumerate(good)]
    rows.insert(1, ["420106198001010016", "校验错", "", "", "湖北省人民医院", "", "", "", "", ""])
    path = tmp_path / "浏览器导入.xlsx"
    path.write_bytes(workbook_bytes(rows))
    app.config["IMPORT_SYNC_MAX_ROWS"] = 1          # this file runs as a background job
    try:
        _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
        browser.get(server + "/persons/list/")
        _click_when_visible(browser, By.ID, "person-import")
        browser.find_element(By.ID, "import-file").send_keys(str(path))
        browser.find_element(By.ID, "import-upload").click()
        _wait(browser, 30).until(lambda d: d.find_elements(By.ID, "import-summary"))   # reloaded when done
        summary = browser.find_element(By.ID, "import-summary").text
        assert "共检查 4 行：3 行可以导入，1 行有误" in summary
        cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#import-errors td")]
        assert cells[:2] == ["3", "身份证号"] and "校验位" in cells[2]
        browser.find_element(By.ID, "import-commit").click()
        _wait(browser, 30).until(lambda d: d.find_elements(By.ID, "import-done"))
        assert "已导入 3 行" in browser.find_element(By.ID, "import-done").text
        browser.get(server + "/jobs/")
        bars = browser.find_elements(By.CSS_SELECTOR, "#job-table .progress-bar")
        assert bars and bars[0].text == "100%"
    finally:
        app.config["IMPORT_SYNC_MAX_ROWS"] = 2000
        from app.demo import seed_demo
        from app.extensions import db

        with app.app_context():
            db.session.rollback()
            seed_demo(reset=True)


def test_my_jobs_progress_bar_advances_live_and_offers_the_file(browser, server, app):
    """A 4 s job: the bar on 我的任务 moves without reloading, then shows 100 % and a download link."""
    import time

    from selenium.webdriver.common.by import By
    from sqlalchemy import select

    import tests.support.slow_jobs  # noqa: F401
    from app import jobs
    from app.actor import Actor
    from app.extensions import db
    from app.models import Account
    from app.services.transaction import transaction

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    with app.app_context():
        actor = Actor.of(db.session.scalar(select(Account).where(Account.username == HEALTH_ID)))
        with transaction():
            job = jobs.submit("test_slow", actor=actor, title="浏览器进度测试", params={"steps": 20, "delay": 0.2})
        job_id = job.id
    browser.get(server + "/jobs/")
    bar = f"#job-{job_id} .progress-bar"
    seen = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.add(int(browser.find_element(By.CSS_SELECTOR, bar).get_attribute("aria-valuenow")))
        if 100 in seen:
            break
        time.sleep(0.2)
    assert 100 in seen and len(seen - {0, 100}) >= 2          # intermediate values, shown as they came
    link = browser.find_element(By.CSS_SELECTOR, f"#job-{job_id} .job-download")
    assert link.is_displayed() and link.get_attribute("href").endswith(f"/jobs/{job_id}/download")
