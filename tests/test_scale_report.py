"""The scale report's build cell: wall time, and the build's CPU time where a run recorded it."""

from __future__ import annotations

from bench.scale_report import scaling_table


def build_cell(run: dict[str, object]) -> str:
    row = scaling_table([run])[2]  # header, rule, then the run
    return row.split(" | ")[5]


def test_the_build_cell_adds_the_cpu_time_a_run_recorded() -> None:
    seconds = {"total": 138.712}
    assert build_cell({"articles": 100_000, "build": {"seconds": seconds}}) == "138.7 s"
    recorded = {"seconds": seconds, "cpu_seconds": 2901.4}
    assert build_cell({"articles": 100_000, "build": recorded}) == "138.7 s (2,901 CPU-s)"
