from __future__ import annotations

from pathlib import Path

from index_data.article import article_from_record
from index_data.store import ArticleStore


def art(article_id: str, body: str = "Body") -> object:
    return article_from_record({"id": article_id, "title": "T " + article_id, "body": body})


def test_upsert_insert_update_unchanged(tmp_path: Path) -> None:
    with ArticleStore(tmp_path / "a.db") as store:
        first = store.upsert_many([art("b"), art("a")])
        assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
        rev = store.rev()
        again = store.upsert_many([art("a"), art("b")])
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        assert store.rev() == rev  # re-ingesting the same records changes nothing
        edited = store.upsert_many([art("a", "New body")])
        assert (edited.inserted, edited.updated) == (0, 1)
        assert store.rev() == rev + 1
        read = store.read_all()
        assert [a.id for a in read.articles] == ["a", "b"]
        assert read.articles[0].body == "New body"


def test_delete_and_durable_reopen(tmp_path: Path) -> None:
    with ArticleStore(tmp_path / "a.db") as store:
        store.upsert_many([art("a"), art("b")])
        assert store.delete("a") is True
        assert store.delete("a") is False
    with ArticleStore(tmp_path / "a.db") as reopened:
        assert reopened.get("a") is None
        assert reopened.get("b") is not None
        assert reopened.count() == 1
