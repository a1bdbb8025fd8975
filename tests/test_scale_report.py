"""The scale report's build cell: wall time, and the build's CPU time where a run recorded it."""

from __future__ import annotations

import json
from pathlib import Path

from bench.scale_report import load, scaling_table


def build_cell(run: dict[str, object]) -> str:
    row = scaling_table([run])[2]  # header, rule, then the run
    return row.split(" | ")[5]


def test_the_build_cell_adds_the_cpu_time_a_run_recorded() -> None:
    seconds = {"total": 138.712}
    assert build_cell({"articles": 100_000, "build": {"seconds": seconds}}) == "138.7 s"
    recorded = {"seconds": seconds, "cpu_seconds": 2901.4}
    assert build_cell({"articles": 100_000, "build": recorded}) == "138.7 s (2,901 CPU-s)"


def test_the_report_takes_the_newest_run_of_each_size(tmp_path: Path) -> None:
    runs = {
        "scale-100k.json": {"articles": 100_000, "date": "2026-12-03T03:50:11+00:00"},
        "scale-100k-old.json": {"articles": 100_000, "date": "2026-12-02T23:22:26+00:00"},
        "scale-10k.json": {"articles": 10_000, "date": "2026-12-01T00:00:00+00:00"},
    }
    for name, run in runs.items():
        (tmp_path / name).write_text(json.dumps(run), encoding="utf-8")
    assert [(r["articles"], r["date"][:10]) for r in load(tmp_path)] == [
        (10_000, "2026-12-01"),
        (100_000, "2026-12-03"),
    ]
