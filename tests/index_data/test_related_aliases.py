"""Related vectors see alias variants as one spelling, in builds, changes and drafts."""

from __future__ import annotations

from pathlib import Path

from index_data.aliases import save_aliases
from index_data.article import article_from_record
from index_data.build import BuildConfig, build_snapshot
from index_data.live import LiveView
from index_data.store import ArticleStore
from search.aliases import AliasTable

STORIES = [
    ("a", "SRK wraps a night shoot", "SRK finished the night shoot on a harbour set."),
    ("b", "Shah Rukh Khan at a premiere", "Shah Rukh Khan greeted fans at a premiere."),
    ("c", "Harbour night market opens", "A night market opened on the harbour set."),
]


def build(data_dir: Path, aliases: bool) -> LiveView:
    save_aliases(data_dir, AliasTable.parse("Shah Rukh Khan = SRK"))
    with ArticleStore(data_dir / "articles.db") as store:
        store.upsert_many(
            article_from_record({"id": i, "title": t, "body": b}) for i, t, b in STORIES
        )
    build_snapshot(data_dir, BuildConfig(aliases=aliases), publish=True)
    return LiveView.open(data_dir)


def test_stories_naming_a_star_differently_are_related_by_the_name(tmp_path: Path) -> None:
    view = build(tmp_path / "on", aliases=True)
    off = build(tmp_path / "off", aliases=False)
    try:
        with_aliases = view.related("a", 2) or []
        without = off.related("a", 2) or []
        # Without aliases, "a" shares only its setting ("night", "harbour") with "c" and
        # nothing with "b"; with them, "b" shares the star's name.
        assert [e.id for e in without] == ["c"]
        assert "b" in [e.id for e in with_aliases]
        b_entry = next(e for e in with_aliases if e.id == "b")
        assert {"shah", "rukh", "khan"} & set(b_entry.shared_terms)
        # A draft is read the same way: "SRK" is no term of the built vocabulary (every
        # "SRK" was written "Shah Rukh Khan"), so only the alias list relates it to anything.
        draft = view.related_to_text("SRK signs", "SRK signs a new role.", 2)
        assert {e.id for e in draft} == {"a", "b"}
    finally:
        for v in (view, off):
            v.snapshot.close()
