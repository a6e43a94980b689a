"""Headless Chromium under the real Content-Security-Policy (issue 8, finding 12): pages raise no CSP
violation in the console and still work (batch-action confirmation, search-as-you-type pickers, API docs).
"""
from __future__ import annotations

import pytest

from tests.conftest import HEALTH_ID, PROVINCE_ID
from tests.e2e.test_browser import _login, _wait, server, start_chromium  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-csp"), console_log=True, implicit_wait=5)
    yield driver
    driver.quit()


def _violations(browser):
    """Console messages about the Content-Security-Policy (or any script error) since the last call."""
    entries = browser.get_log("browser")
    return [e["message"] for e in entries
            if "Content Security Policy" in e["message"] or "Content-Security-Policy" in e["message"]
            or (e["level"] == "SEVERE" and "Uncaught" in e["message"])]


def test_pages_run_without_csp_violations_and_a_batch_action_asks_first(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    _violations(browser)
    for url in ("/", "/persons/list/", "/organisations/list/", "/users/userinfo/", "/resetmypassword/form",
                "/ownorganisation/show/", "/orgadmins/add/member", "/subordinates/list/"):
        browser.get(server + url)
        assert browser.find_element(By.TAG_NAME, "body").text, url
        assert _violations(browser) == [], url

    # a batch action on a list: choose a row, pick the action, the confirmation dialog opens
    browser.get(server + "/review/person_registration/list/")
    browser.find_element(By.CSS_SELECTOR, "input[name='rowid']").click()
    browser.find_element(By.XPATH, "//*[contains(@class, 'dropdown-toggle') and contains(., '操作')]").click()
    browser.find_element(By.XPATH, "//a[contains(., '审核通过')]").click()
    _wait(browser).until(lambda d: any(e.is_displayed() for e in d.find_elements(By.ID, "modal-confirm")))
    assert _violations(browser) == []


def test_search_as_you_type_picker_works_under_the_policy(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.get(server + "/persons/add")
    browser.find_element(By.CSS_SELECTOR, "#employer + .select2 .select2-selection").click()
    browser.find_element(By.CSS_SELECTOR, ".select2-search__field").send_keys("湖北")
    _wait(browser).until(lambda d: "湖北省人民医院" in d.find_element(By.CSS_SELECTOR, ".select2-results").text)
    assert _violations(browser) == []
    # the public page's picker too, signed out
    browser.delete_all_cookies()
    browser.get(server + "/register/supervisory")
    browser.find_element(By.CSS_SELECTOR, "#parent_id + .select2 .select2-selection").click()
    browser.find_element(By.CSS_SELECTOR, ".select2-search__field").send_keys("教育")
    _wait(browser).until(lambda d: "湖北省教育厅" in d.find_element(By.CSS_SELECTOR, ".select2-results").text)
    assert _violations(browser) == []


def test_api_docs_render_under_the_policy(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, PROVINCE_ID, "Hubei@2026", "主管部门")
    _violations(browser)
    browser.get(server + "/swagger/v1")
    _wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    assert _violations(browser) == []


def test_logout_button_posts_and_ends_the_session(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.find_element(By.ID, "user-menu").click()
    browser.find_element(By.ID, "menu-logout").click()
    _wait(browser).until(lambda d: "/login" in d.current_url)
    browser.get(server + "/persons/list/")
    assert "/login" in browser.current_url
    assert _violations(browser) == []
