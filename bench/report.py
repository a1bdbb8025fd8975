"""What every benchmark does with its figures: print them and, if asked, save them."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

StudyResult = tuple[str, Any]  # the markdown body, the figures for the JSON


def emit(report: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(report, indent=2)
    print(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


def run_study(
    module: str, doc: str, default_out: str, heading: str, study: Callable[[Path], StudyResult]
) -> None:
    """A SciFact study's command line (`python -m <module> --data DIR --out FILE`): runs
    `study` on DIR/scifact, writes its markdown (heading, date, command and the script, then
    the body it returns) to FILE and its figures as JSON beside it (same name, .json), and
    prints the markdown."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path(default_out))
    args = parser.parse_args()
    body, results = study(args.data / "scifact")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = f"python -m {module} --data ../shared/data --out {args.out}"
    source = module.replace(".", "/") + ".py"
    text = f"# {heading}\n\n{when}, `{command}`. Not a product path: see {source}.\n\n{body}"
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps({"date": when, "command": command, "results": results}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(text)
