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


def write_study(out: Path, heading: str, command: str, when: str, body: str, results: Any) -> None:
    """A study's markdown (heading, date and command, then `body`) at `out`, its figures as
    JSON beside it (same name, .json); the markdown is printed too."""
    module = command.split()[2]  # "python -m bench.x ..."
    text = (
        f"# {heading}\n\n{when}, `{command}`. Not a product path: see "
        f"{module.replace('.', '/')}.py.\n\n{body}"
    )
    out.write_text(text, encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps({"date": when, "command": command, "results": results}, indent=1) + "\n",
        encoding="utf-8",
    )
    print(text)
