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
    _click_when_visible(browser, By.PARTIAL_LINK_TEXT, "查询")  # open the 查询 panel
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
