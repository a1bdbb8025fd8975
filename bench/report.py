"""What every benchmark does with its figures: print them and, if asked, save them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit(report: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(report, indent=2)
    print(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


def write_study(
    out: Path, heading: str, source: str, command: str, when: str, body: str, results: Any
) -> None:
    """A study's markdown (heading, date, command and `source`, the script, then `body`) at
    `out`, its figures as JSON beside it (same name, .json); the markdown is printed too."""
    text = f"# {heading}\n\n{when}, `{command}`. Not a product path: see {source}.\n\n{body}"
    out.write_text(text, encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps({"date": when, "command": command, "results": results}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(text)
