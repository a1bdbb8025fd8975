"""Search ranking and behaviour on the fixture corpus, against hand-ranked expectations."""

from __future__ import annotations

from datetime import datetime

import pytest

from index_data.live import LiveView
from search.index import Recency, SearchRequest
from search.query import Filters, parse


def ids(snapshot: LiveView, text: str, **kwargs: object) -> list[str]:
    return [h.id for h in snapshot.search(SearchRequest(text, **kwargs)).hits]  # type: ignore[arg-type]


def test_all_words_rank_first_then_partial_matches(snapshot: LiveView) -> None:
    got = ids(snapshot, "tom cruise train")
    # Only the stunt story and its syndicated copy have all three words; the premiere has
    # two (tom, cruise); the Mumbai train film and the cruise-ship show one each.
    assert set(got[:2]) == {"cruise-train-stunt", "cruise-train-stunt-wire"}
    assert got[2] == "cruise-premiere"
    assert set(got[3:]) == {"mumbai-local-train-film", "cruise-ship-reality-show"}


def test_title_match_outranks_body_only_match(snapshot: LiveView) -> None:
    # "spy" is in the headline of the stunt story and its copy; five others have it in the
    # body only.
    got = ids(snapshot, "spy")
    assert len(got) == 7
    assert set(got[:2]) == {"cruise-train-stunt", "cruise-train-stunt-wire"}


def test_phrase_exclusion_and_fields(snapshot: LiveView) -> None:
    assert set(ids(snapshot, '"tom cruise"')) == {
        "cruise-train-stunt",
        "cruise-train-stunt-wire",
        "cruise-premiere",
    }
    assert ids(snapshot, "train -cruise") == ["mumbai-local-train-film"]
    assert set(ids(snapshot, "category:bollywood pathaan")) == {
        "pathaan-2-announced",
        "pathaan-2-trailer",
    }
    assert ids(snapshot, "title:trailer") == ["pathaan-2-trailer"]
    assert ids(snapshot, 'author:"meera shah" prices') == ["streaming-price-rise"]


def test_sort_newest(snapshot: LiveView) -> None:
    got = snapshot.search(SearchRequest("pathaan", sort="newest"))
    assert [h.id for h in got.hits] == [
        "pathaan-2-box-office",
        "pathaan-2-trailer",
        "pathaan-2-announced",
    ]
    assert all(h.score is None for h in got.hits)


def test_newest_lists_the_complete_matches_by_date(snapshot: LiveView) -> None:
    got = snapshot.search(SearchRequest("pathaan spy", sort="newest"))
    # Three stories have both words; dates 2025-10-05, 2025-09-01, 2025-01-25.
    assert [h.id for h in got.hits] == [
        "pathaan-2-box-office",
        "pathaan-2-trailer",
        "pathaan-2-announced",
    ]
    assert got.total == 3
    # Nothing has both words: then every article with either, newest first.
    loose = snapshot.search(SearchRequest("quiz prices", sort="newest"))
    assert [h.id for h in loose.hits] == ["streaming-price-rise", "markup-title"]


def test_filters(snapshot: LiveView) -> None:
    assert set(ids(snapshot, "spy", filters=Filters(category="Hollywood"))) == {
        "cruise-train-stunt",
        "cruise-train-stunt-wire",
        "cruise-premiere",
    }
    assert set(ids(snapshot, "spy", filters=Filters(author="priya menon"))) == {
        "pathaan-2-announced",
        "pathaan-2-trailer",
    }
    assert ids(snapshot, "spy", filters=Filters(tag="Box Office")) == ["pathaan-2-box-office"]
    window = Filters(date_from=datetime(2025, 5, 1), date_to=datetime(2025, 9, 30))
    assert set(ids(snapshot, "spy", filters=window)) == {
        "cruise-train-stunt",
        "cruise-train-stunt-wire",
        "cruise-premiere",
        "pathaan-2-trailer",
    }


def test_facets_and_pages_cover_the_whole_result_set(snapshot: LiveView) -> None:
    whole = snapshot.search(SearchRequest("spy", per_page=10))
    assert whole.total == 7
    assert whole.facets == {
        "category": {"hollywood": 3, "bollywood": 2, "awards": 1, "box-office": 1}
    }
    pages = [snapshot.search(SearchRequest("spy", page=p, per_page=3)) for p in (1, 2, 3, 4)]
    assert all(p.total == 7 and p.facets == whole.facets for p in pages)
    assert [h.id for p in pages for h in p.hits] == [h.id for h in whole.hits]
    assert pages[3].hits == ()


def test_snippets_mark_matches_and_escape_everything_else(snapshot: LiveView) -> None:
    hit = snapshot.search(SearchRequest("quiz")).hits[0]
    assert hit.id == "markup-title"
    assert hit.title.startswith("<script>")  # titles are plain text; clients escape them
    assert "<mark>quiz</mark>" in hit.snippet
    assert "&lt;b&gt;bold" in hit.snippet and "<b>" not in hit.snippet
    explained = snapshot.search(SearchRequest("explain")).hits[0].snippet
    assert "&amp; <mark>explain</mark>" in explained
    # Matched only in the title: the snippet is the escaped opening of the body.
    lead = snapshot.search(SearchRequest("script")).hits[0].snippet
    assert lead.startswith("A quiz show") and "&lt;b&gt;" in lead and "<mark>" not in lead


def test_hindi_query_with_and_without_nukta(snapshot: LiveView) -> None:
    for query in ("शाहरुख़", "शाहरुख"):
        result = snapshot.search(SearchRequest(query))
        assert [h.id for h in result.hits] == ["pathaan-2-review-hi"]
        assert "<mark>शाहरुख़</mark>" in result.hits[0].snippet


@pytest.mark.parametrize(
    "text",
    [
        "AND",
        "OR NOT",
        '"unbalanced',
        "title:",
        "*",
        "~",
        "tom~2",
        "🎬🍿",
        "-",
        "--cruise",
        ":::",
        '"""',
        "id:",
        "category:",
        "(tom",
        "tom)",
        "a" * 10_000,
        "\x00\x1f",
        'title:""',
        "नमस्ते।।",
        "foo:bar",
        '-"tom cruise"',
    ],
)
def test_odd_input_never_raises(snapshot: LiveView, text: str) -> None:
    result = snapshot.search(SearchRequest(text))
    assert result.total >= len(result.hits)


def test_odd_input_means_plain_words(snapshot: LiveView) -> None:
    assert ids(snapshot, '"spy sequel') == ids(snapshot, "spy sequel")
    assert ids(snapshot, "quiz:show") == ids(snapshot, "quiz show")
    assert ids(snapshot, "the") == []
    assert ids(snapshot, "Leicester-Square") == ["cruise-premiere"]
    assert ids(snapshot, "title: trailer") == ids(snapshot, "title trailer")
    assert [(c.field, c.text) for c in parse("title:trailer")] == [("title", "trailer")]


def test_recency_boost_reorders_within_a_tier(snapshot: LiveView) -> None:
    plain = ids(snapshot, "pathaan")
    # Pure BM25F puts the announcement first (two "Pathaan"s in a short body, one in the title).
    assert plain[0] == "pathaan-2-announced"
    now = datetime(2025, 10, 6).timestamp()
    strong = Recency(weight=5.0, half_life_days=7, now=now)
    boosted = snapshot.search(SearchRequest("pathaan", recency=strong))
    # A day-old box-office story now leads; the nine-month-old announcement drops.
    assert boosted.hits[0].id == "pathaan-2-box-office"
    assert [h.score for h in boosted.hits] == sorted([h.score for h in boosted.hits], reverse=True)
    assert boosted.total == len(plain)
    # Tiers still hold: a boosted one-word match never passes an all-words match.
    tiered = snapshot.search(SearchRequest("tom cruise train", recency=strong))
    assert {h.id for h in tiered.hits[:2]} == {"cruise-train-stunt", "cruise-train-stunt-wire"}


def test_searchers_are_pooled_not_one_per_thread(snapshot: LiveView) -> None:
    """Threads come and go (anyio retires idle ones); searchers must not pile up with them."""
    import threading

    index = snapshot.snapshot.search_index
    before = index.searchers_opened
    for _ in range(5):
        workers = [threading.Thread(target=ids, args=(snapshot, "spy")) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    # 15 threads in bursts of 3: at most 3 more searchers than before, not 15.
    assert index.searchers_opened - before <= 3


def test_did_you_mean_leaves_junk_alone(snapshot: LiveView) -> None:
    """More unknown words than MAX_RESPELT is not a typo; nothing is looked up for them."""
    junk = "qwertyuu asdfghjj zxcvbnmm poiuytrr lkjhgfdd mnbvcxzz"
    assert snapshot.search(SearchRequest(junk)).corrected_query is None
    assert snapshot.search(SearchRequest("spy trailr")).corrected_query == "spy trailer"


def test_in_memory_index_spills_to_a_private_folder() -> None:
    """Many changed articles make the writer spill to disk; two builds at once must not
    share (and delete) each other's spill files, and nothing is left behind."""
    import glob
    import tempfile
    import threading

    from search.build import build_memory_index
    from search.schema import SearchDoc
    from tests.conftest import fixture_records

    records = fixture_records()
    docs = [
        SearchDoc(id=f"{r['id']}-{n}", title=str(r["title"]), body=str(r["body"]) * 20)
        for n in range(40)
        for r in records
    ]
    counts: list[int] = []

    def build() -> None:
        counts.append(build_memory_index(docs, limit_mb=1).doc_count())

    workers = [threading.Thread(target=build) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert counts == [len(docs), len(docs)]
    assert glob.glob(f"{tempfile.gettempdir()}/gupshup-index-*") == []


def test_a_typo_finds_the_corrected_words_below_any_exact_match(snapshot: LiveView) -> None:
    found = snapshot.search(SearchRequest("crusie premiere"))
    assert found.corrected_query == "cruise premiere"
    # Nothing has "crusie": the corrected query's complete matches come first, and then the
    # partial matches of what was typed ("premiere" alone).
    assert found.hits[0].id == "cruise-premiere"
    assert "<mark>" in found.hits[0].snippet
    plain = snapshot.search(SearchRequest("crusie premiere", fuzzy=False))
    assert plain.corrected_query == "cruise premiere"  # still offered, but not searched
    assert "cruise-premiere" in [h.id for h in plain.hits]  # by "premiere" alone
    assert snapshot.search(SearchRequest("crusie", fuzzy=False)).total == 0
    assert {h.id for h in snapshot.search(SearchRequest("crusie")).hits} == {
        h.id for h in snapshot.search(SearchRequest("cruise")).hits
    }
