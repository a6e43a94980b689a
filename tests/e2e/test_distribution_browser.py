"""职称系列分布查询 in headless Chromium: the department admin's charts are really drawn (ECharts from our own
static files), they carry the table's numbers, no CSP violation, and no request leaves 127.0.0.1."""
from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest

from tests.conftest import HEALTH_ID
from tests.e2e.test_browser import (  # noqa: F401
    CHROMIUM_FLAGS, _login, _scratch, _wait, server, server_screenshot_path)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium with the console and the network log (every request the page makes)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-stats')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def _requested_urls(browser) -> list[str]:
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _painted_pixels(browser, element_id: str) -> int:
    """Non-transparent pixels of the chart's canvas."""
    return browser.execute_script("""
        var canvas = document.querySelector('#' + arguments[0] + ' canvas');
        if (!canvas) { return 0; }
        var data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
        for (var i = 3; i < data.length; i += 4) { if (data[i] !== 0) { n++; } }
        return n;""", element_id)


def test_department_admin_sees_the_distribution_drawn_from_local_files(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.get_log("performance")  # only what the distribution page asks for from here on
    browser.get_log("browser")
    browser.get(server + "/statistics/title-series/")
    _wait(browser).until(lambda d: _painted_pixels(d, "chart-bar") > 1000 and _painted_pixels(d, "chart-pie") > 1000)

    # the charts carry the table's numbers
    table_total = int(browser.find_element(By.ID, "distribution-grand-total").text)
    bar = browser.execute_script("""
        var chart = echarts.getInstanceByDom(document.getElementById('chart-bar')), option = chart.getOption();
        return {names: option.yAxis[0].data, stacks: option.series.map(function (s) { return s.data; })};""")
    pie = browser.execute_script("""
        var option = echarts.getInstanceByDom(document.getElementById('chart-pie')).getOption();
        return option.series[0].data.map(function (d) { return [d.name, d.value]; });""")
    assert sum(sum(stack) for stack in bar["stacks"]) == table_total > 0
    assert sum(value for _name, value in pie) == table_total
    first_row = browser.find_elements(By.CSS_SELECTOR, "#distribution-table tbody tr td")[0].text
    assert bar["names"][0] == pie[0][0] == first_row  # sorted alike: most persons first, Chinese names
    assert all("\u4e00" <= name[0] <= "\u9fff" for name in bar["names"])
    # the tooltip of a bar gives counts and the share
    browser.execute_script("""
        var chart = echarts.getInstanceByDom(document.getElementById('chart-pie'));
        chart.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0});""")
    _wait(browser).until(lambda d: "%" in d.execute_script(
        "var t = document.querySelector('#chart-pie div[style*=\"z-index\"]'); return t ? t.textContent : '';"))
    browser.save_screenshot(str(server_screenshot_path("title-distribution")))
    browser.execute_script("document.getElementById('chart-pie').scrollIntoView()")
    browser.save_screenshot(str(server_screenshot_path("title-distribution-pie")))

    urls = _requested_urls(browser)
    assert any(u.endswith("/static/vendor/echarts/echarts.min.js") for u in urls), urls
    outside = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname != "127.0.0.1"]
    assert outside == []
    problems = [e["message"] for e in browser.get_log("browser")
                if "Content Security Policy" in e["message"] or e["level"] == "SEVERE"]
    assert problems == []


def test_person_query_searches_and_opens_the_details(browser, server):
    from selenium.webdriver.common.by import By

    _login(browser, server, HEALTH_ID, "Demo@2026", "主管部门")
    browser.get(server + "/statistics/persons/list/")
    first = _wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#person-query-table tbody tr"))[0]
    number = first.find_elements(By.TAG_NAME, "td")[1].text
    browser.find_element(By.ID, "q").send_keys(number[:14])
    browser.find_element(By.ID, "person-query-search").click()
    _wait(browser).until(lambda d: "q=" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#person-query-table tbody tr")
    assert rows and all(r.find_elements(By.TAG_NAME, "td")[1].text.startswith(number[:14]) for r in rows)
    browser.save_screenshot(str(server_screenshot_path("person-query")))
    rows[0].find_element(By.CSS_SELECTOR, "td a").click()
    _wait(browser).until(lambda d: "/statistics/persons/show/" in d.current_url)
    assert browser.find_element(By.ID, "person-id-number").text.startswith(number[:14])
    for table in ("person-hours", "person-title-changes", "person-transfers"):
        assert browser.find_element(By.ID, table).is_displayed()
    browser.save_screenshot(str(server_screenshot_path("person-query-detail")))
