#!/usr/bin/env python3
"""The scale curve: collect `make bench` results at several sizes into bench-results/curve.json, draw
docs/benchmark-curve.png and write the table of docs/benchmark.md (between its curve markers).

    python scripts/bench_curve.py bench-results/curve-100000.json bench-results/curve-1000000.json ...

(`make bench-curve` runs the benchmarks, then this.) Each input is the JSON of one `flask bench` run; the
number of persons is read from its name (curve-<N>.json) or its metadata.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CURVE_JSON = ROOT / "bench-results" / "curve.json"
PNG = ROOT / "docs" / "benchmark-curve.png"
DOC = ROOT / "docs" / "benchmark.md"
BEGIN, END = "<!-- curve:begin (scripts/bench_curve.py) -->", "<!-- curve:end -->"

#: the cases the curve follows: (kind, case name in `flask bench`, target in ms or None)
FOLLOWED = [
    ("page", "person list p1 (mid)", 40),
    ("page", "person list p1000 (mid)", 60),
    ("page", "name prefix search (mid)", 60),
    ("page", "person list p1 (province)", 60),
    ("page", "review list transfer p1 (mid)", 40),
    ("page", "dashboard (mid)", None),
    ("form", "/persons/add form (mid)", 40),
    ("form", "/persons/edit form (mid)", 40),
    ("form", "/organisations/edit form (mid)", 40),
    ("form", "lookup person by name (mid)", 40),
    ("decision", "batch approval 1000 (decide)", 150),
    ("decision", "batch approval 1000 (review list action)", None),
    # the contrast: Flask-AppBuilder's own list of the same model counts and sorts the whole table
    ("plain", "plain person list p1", None),
]
THROUGHPUT = "person list p1 (mid), 2 gunicorn workers"


def persons_of(path: Path, report: dict) -> int:
    match = re.search(r"curve-(\d+)\.json$", path.name)
    if match:
        return int(match.group(1))
    meta = report.get("meta", {})
    for key in ("persons", "scale_persons"):
        if key in meta:
            return int(meta[key])
    raise SystemExit(f"cannot tell the number of persons of {path}")


def collect(paths: list[Path]) -> dict:
    sizes = []
    for path in paths:
        report = json.loads(path.read_text())
        cases = {c["name"]: c for c in report.get("cases", [])}
        throughput = {t["name"]: t for t in report.get("throughput", [])}
        point = {"persons": persons_of(path, report), "source": path.name, "meta": report.get("meta", {}),
                 "cases": {}, "throughput": None}
        for kind, name, target in FOLLOWED:
            case = cases.get(name)
            if case and case.get("median_ms") is not None:
                point["cases"][name] = {"kind": kind, "median_ms": case["median_ms"], "p90_ms": case.get("p90_ms"),
                                        "min_ms": case.get("min_ms"), "max_ms": case.get("max_ms"),
                                        "statements": case.get("statements"), "target_ms": target}
        row = throughput.get(THROUGHPUT)
        if row and row.get("requests_per_sec"):
            point["throughput"] = {"name": THROUGHPUT, "req_per_s": row["requests_per_sec"],
                                   "p50_ms": row.get("latency_p50_ms"), "p99_ms": row.get("latency_p99_ms")}
        sizes.append(point)
    sizes.sort(key=lambda p: p["persons"])
    return {"sizes": sizes, "followed": [{"kind": k, "name": n, "target_ms": t} for k, n, t in FOLLOWED]}


def label(persons: int) -> str:
    return f"{persons // 1_000_000}M" if persons % 1_000_000 == 0 else f"{persons // 1000}k"


def draw(curve: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = curve["sizes"]
    xs = [p["persons"] for p in sizes]
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.8))
    panels = (("page", "Pages (median ms)"), ("form", "Forms and pickers (median ms)"),
              ("decision", "Batch decisions (median ms)"), ("plain", "Contrast: plain Flask-AppBuilder list"))
    for axis, (kind, title) in zip(axes, panels):
        for _, name, target in (f for f in FOLLOWED if f[0] == kind):
            ys = [p["cases"].get(name, {}).get("median_ms") for p in sizes]
            if any(y is not None for y in ys):
                axis.plot(xs, ys, marker="o", label=name)
        axis.set_xscale("log")
        axis.set_xticks(xs, [label(x) for x in xs])
        axis.minorticks_off()
        axis.set_ylim(bottom=0)
        axis.set_xlabel("persons in the province")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper left")
    fig.suptitle("Scale curve: median times as the province grows (PostgreSQL 15, 2 cores shared with other work)")
    fig.tight_layout()
    PNG.parent.mkdir(exist_ok=True)
    fig.savefig(PNG, dpi=110)


def table(curve: dict) -> str:
    sizes = curve["sizes"]
    head = "| kind | case | target | " + " | ".join(label(p["persons"]) for p in sizes) + " |"
    rule = "|---|---|---|" + "---:|" * len(sizes)
    lines = [head, rule]
    for kind, name, target in FOLLOWED:
        cells = []
        for point in sizes:
            case = point["cases"].get(name)
            cells.append("—" if case is None else
                         f"{case['median_ms']:.1f} · {case['min_ms']:.1f} ({case['statements']})")
        if any(c != "—" for c in cells):
            lines.append(f"| {kind} | {name} | {'≤ %d ms' % target if target else ''} | " + " | ".join(cells) + " |")
    cells = [f"{p['throughput']['req_per_s']:.1f} req/s" if p["throughput"] else "—" for p in sizes]
    lines.append(f"| throughput | {THROUGHPUT} (wrk -t2 -c8) | ≥ 60 req/s | " + " | ".join(cells) + " |")
    cells = []
    for point in sizes:
        load = point["meta"].get("load_average") or {}
        start, end = (load.get("start") or [None])[0], (load.get("end") or [None])[0]
        cells.append(f"{start:.1f} → {end:.1f}" if start is not None and end is not None else "—")
    lines.append("| machine | load average (1 min) at start → end, 2 cores | | " + " | ".join(cells) + " |")
    cells = [str((p["meta"].get("code") or {}).get("commit", "—"))[:7] for p in sizes]
    lines.append("| code | commit measured | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(curve: dict) -> None:
    text = DOC.read_text()
    block = (f"{BEGIN}\nEach cell: median · fastest run, in ms, of the measured runs (SQL statements of one request "
             f"in brackets). Written by `scripts/bench_curve.py` from `bench-results/curve.json`.\n\n{table(curve)}\n\n"
             f"![scale curve](benchmark-curve.png)\n{END}")
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## The scale curve\n\n" + block + "\n"
    DOC.write_text(text)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv if Path(a).exists()]
    missing = [a for a in argv if not Path(a).exists()]
    if missing:
        print("not measured (left out): " + ", ".join(missing))
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    curve = collect(paths)
    CURVE_JSON.parent.mkdir(exist_ok=True)
    CURVE_JSON.write_text(json.dumps(curve, indent=2, ensure_ascii=False))
    draw(curve)
    write_doc(curve)
    print(table(curve))
    print(f"written: {CURVE_JSON.relative_to(ROOT)}, {PNG.relative_to(ROOT)}, {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
