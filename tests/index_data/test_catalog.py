"""The snapshot catalog as memory-mapped columns, the old JSON form, and the live overlay."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from index_data.catalog import Catalog, LiveCatalog, write_catalog

ENTRIES: list[dict[str, Any]] = [
    {
        "id": "a1",
        "title": "Pathaan 2 की पहली झलक",
        "url": "https://news.example/a1",
        "category": "bollywood",
        "published_at": "2025-09-01T00:05:00+05:30",
        "published_ts": 1756665300.0,
    },
    {
        "id": "b2",
        "title": "",  # an empty title is not a missing one
        "url": None,
        "category": None,
        "published_at": None,
        "published_ts": None,
    },
    {
        "id": "c3",
        "title": "Café society: naïve résumé",
        "url": "https://news.example/c3?x=1&y=é",
        "category": "hollywood",
        "published_at": "1999-12-31T23:59:59+00:00",
        "published_ts": 946684799.0,
    },
]


def _open(folder: Path, entries: list[dict[str, Any]]) -> Catalog:
    ids = [e["id"] for e in entries]
    return Catalog(folder, ids, {article_id: row for row, article_id in enumerate(ids)})


def test_columns_give_back_every_entry(tmp_path: Path) -> None:
    write_catalog(tmp_path, ENTRIES)
    catalog = _open(tmp_path, ENTRIES)
    assert not (tmp_path / "catalog.json").exists()
    assert list(catalog) == ["a1", "b2", "c3"] and len(catalog) == 3
    assert [catalog[e["id"]] for e in ENTRIES] == ENTRIES
    assert "b2" in catalog and "zz" not in catalog
    with pytest.raises(KeyError):
        catalog["zz"]


def test_a_snapshot_built_before_the_columns_reads_its_json(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text(json.dumps(ENTRIES, ensure_ascii=False), "utf-8")
    catalog = _open(tmp_path, ENTRIES)
    assert dict(catalog) == {e["id"]: e for e in ENTRIES}
    assert "c3" in catalog and len(catalog) == 3


def test_columns_that_do_not_match_the_articles_are_refused(tmp_path: Path) -> None:
    write_catalog(tmp_path, ENTRIES)
    ids = ["a1", "c3", "b2"]
    with pytest.raises(ValueError, match="catalog ids differ"):
        Catalog(tmp_path, ids, {a: r for r, a in enumerate(ids)})
    with pytest.raises(ValueError, match="catalog column id has 3 entries, not 2"):
        Catalog(tmp_path, ids[:2], {a: r for r, a in enumerate(ids[:2])})


def test_an_empty_catalog(tmp_path: Path) -> None:
    write_catalog(tmp_path, [])
    catalog = Catalog(tmp_path, [], {})
    assert list(catalog) == [] and len(catalog) == 0


def test_live_catalog_is_the_merged_dictionary_it_replaces() -> None:
    """Against what LiveView built before: `{**base, **new}` with the deleted ids popped."""
    rng = random.Random(4)
    base = {f"s{n}": {"id": f"s{n}", "title": f"story {n}"} for n in range(40)}
    for _ in range(200):
        known = list(base) + [f"n{n}" for n in range(10)]
        new = {a: {"id": a, "title": f"edited {a}"} for a in rng.sample(known, rng.randint(0, 8))}
        deleted = rng.sample(known, rng.randint(0, 6))  # may name new or unknown ids too
        expected = {**base, **new}
        for article_id in deleted:
            expected.pop(article_id, None)
        live = LiveCatalog(base, new, deleted)
        assert list(live.items()) == list(expected.items())
        assert len(live) == len(expected)
        for article_id in known:
            assert (article_id in live) == (article_id in expected)
            if article_id not in expected:
                with pytest.raises(KeyError):
                    live[article_id]
