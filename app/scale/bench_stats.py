"""Benchmark cases of 查询统计 (issue 13): 继教综合统计查询 as the province and the mid-level admin, by department and
by title series, page and REST; the dashboard (with its chart) is measured by the existing dashboard cases."""
from __future__ import annotations

from app.scale.generate import BASE_TIME

YEAR = BASE_TIME.year

#: case -> (median ms, statements) at 1M persons
STATS_TARGETS = {
    "statistics table (province)": (100, None),
    "statistics table (mid)": (100, None),
    "statistics by series (province)": (150, None),
    "statistics by series (mid)": (150, None),
    "statistics REST (province)": (100, None),
}


def stats_cases(bench) -> list:
    from app.scale.bench import Case

    cases = []
    for who in ("province", "mid"):
        url = f"/statistics/comprehensive/?year={YEAR}"
        cases.append(Case(f"statistics table ({who})", "statistics", who, url, bench.get(who, url)))
        url = f"/statistics/comprehensive/?year={YEAR}&by=series"
        cases.append(Case(f"statistics by series ({who})", "statistics", who, url, bench.get(who, url)))
    url = f"/api/v1/statistics/comprehensive?year={YEAR}"
    cases.append(Case("statistics REST (province)", "statistics", "province", url, _rest(bench, url)))
    return cases


def _rest(bench, url: str):
    from app.scale.generate import BENCH_PASSWORD

    client = bench.app.test_client()
    response = client.post("/api/v1/security/login", json={
        "username": bench.info.province_admin, "password": BENCH_PASSWORD, "provider": "db"})
    if response.status_code != 200:
        raise RuntimeError(f"API login of the province admin failed (HTTP {response.status_code})")
    headers = {"Authorization": f"Bearer {response.json['access_token']}"}

    def run():
        answer = client.get(url, headers=headers)
        return answer.status_code, len(answer.data)

    return run
