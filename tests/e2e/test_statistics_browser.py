"""查询统计 in headless Chromium under the real Content-Security-Policy: the dashboard draws the ECharts chart of the
subordinate departments' 合格率, the statistics page and its drill-down work, no CSP violation or script error."""
from __future__ import annotations

import pytest

from tests.conftest import HEALTH_ID
from tests.e2e.test_browser import _login, _wait
from tests.e2e.test_csp import _violations, browser, server  # noqa: F401 - the module's fixtures

pytestmark = pytest.mark.e2e


def test_the_dashboard_chart_and_the_statistics_table_in_a_browser(browser, server):  # noqa: F811
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    _violations(browser)
    browser.get(server + "/")
    # ECharts drew into its container (a canvas), from our own server
    _wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qualification-chart canvas"))
    assert browser.execute_script("return typeof echarts") == "object"
    assert _violations(browser) == []

    browser.get(server + "/statistics/comprehensive/")
    table = browser.find_element(By.ID, "stats-table")
    assert "当年总学习人数" in table.text and "总计" in table.text
    browser.find_element(By.CSS_SELECTOR, "a.stats-drill").click()
    _wait(browser).until(lambda d: "org=" in d.current_url)
    crumbs = browser.find_element(By.ID, "stats-breadcrumb").text
    assert "湖北省卫生健康委员会" in crumbs
    assert _violations(browser) == []
