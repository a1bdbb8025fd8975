"""Page weight: the bytes a first visit to / and to an article page fetches (the HTML and the
files it names, before any API answer), and the widget alone; as served, and gzipped as a
proxy or CDN in front would send them.

    python -m bench.page_weight --out bench/results/page-weight.json
"""

from __future__ import annotations

import argparse
import gzip
import platform
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from bench.report import emit

ASSET = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"')


def weigh(client: TestClient, paths: list[str]) -> dict[str, object]:
    bodies = {path: client.get(path).content for path in paths}
    return {
        "files": {path: len(body) for path, body in bodies.items()},
        "bytes": sum(len(body) for body in bodies.values()),
        "gzip_bytes": sum(len(gzip.compress(body, 6)) for body in bodies.values()),
        "requests": len(bodies),
    }


def page(client: TestClient, path: str) -> dict[str, object]:
    html = client.get(path).text
    return weigh(client, [path, *ASSET.findall(html)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # The pages are static: an empty data dir serves them as well as a built one.
    with (
        tempfile.TemporaryDirectory() as tmp,
        TestClient(create_app(Settings(data_dir=Path(tmp), access_log=False))) as client,
    ):
        emit(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": "python -m bench.page_weight",
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
                "search_page": page(client, "/"),
                "article_page": page(client, "/article/example"),
                "widget": weigh(client, ["/static/gupshup.js"]),
            },
            args.out,
        )


if __name__ == "__main__":
    main()
