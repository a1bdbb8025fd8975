from __future__ import annotations

import json
from pathlib import Path

import pytest

from index_data.errors import ReaderError
from index_data.readers import parse_text_page, read_file, read_paths
from tests.conftest import ARTICLES, PAGES


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_fixture_reads_whole() -> None:
    read = read_file(ARTICLES)
    assert read.ok
    assert len(read.articles) == 12
    assert read.articles[0].id == "cruise-train-stunt"


def test_jsonl_problems_carry_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "ok", "title": "T", "body": "B"})
    path = write(
        tmp_path / "bad.jsonl",
        "\n".join(
            [
                good,
                '{"id": "x", "title": "T", "body": ',  # line 2: broken JSON
                json.dumps({"id": "y", "body": "no title"}),  # line 3: missing title
                json.dumps({"id": "ok", "title": "T", "body": "again"}),  # line 4: duplicate id
                "[1, 2]",  # line 5: not an object
            ]
        ),
    )
    read = read_file(path)
    assert [a.id for a in read.articles] == ["ok"]
    messages = [str(p) for p in read.problems]
    assert messages[0].startswith(f"{path}:2: invalid JSON")
    assert messages[1] == f"{path}:3: missing required field 'title'"
    assert messages[2] == f"{path}:4: duplicate id 'ok' (first on line 1)"
    assert messages[3] == f"{path}:5: expected a JSON object, got list"


def test_jsonl_bad_encoding_names_the_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "ok", "title": "T", "body": "B"}).encode()
    path = write(
        tmp_path / "latin1.jsonl", good + b"\n" + b'{"id": "z", "title": "caf\xe9", "body": "b"}'
    )
    read = read_file(path)
    assert [str(p) for p in read.problems] == [
        f"{path}:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    ]


def test_csv_maps_columns_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv",
        (
            "ID,Title,Body,Category,Tags,Published_At,Mood\n"
            'c1,"Comma, in title","Body ""quoted""",Music,"a|b",2025-01-01,happy\n'
            "c2,,Missing title,music,,,\n"
        ),
    )
    read = read_file(path)
    assert [a.id for a in read.articles] == ["c1"]
    first = read.articles[0]
    assert (first.title, first.body, first.category, first.tags) == (
        "Comma, in title",
        'Body "quoted"',
        "music",
        ("a", "b"),
    )
    assert first.extra == {"mood": "happy"}
    assert [str(p) for p in read.problems] == [f"{path}:3: missing required field 'title'"]


def test_scraped_text_page_is_cleaned() -> None:
    read = read_file(PAGES / "filmi-premiere.txt")
    assert read.ok
    page = read.articles[0]
    assert page.source == "Filmi Wire"
    assert page.title == "Stars light up the premiere of the monsoon musical"
    assert page.category == "movies"
    assert page.body.split("\n\n") == [
        (
            "The monsoon musical opened on Friday night with a premiere that drew half of the "
            "film industry to a single cinema in Bandra."
        ),
        (
            '"We rehearsed the rain song for three weeks," the choreographer said, laughing as '
            "the lead pair posed for photographers."
        ),
        "Ticket counters reported that the first weekend is already close to sold out.",
    ]
    # The id is derived from the page itself, so reading it again gives the same id.
    assert read_file(PAGES / "filmi-premiere.txt").articles[0].id == page.id


def test_text_page_boilerplate_variants() -> None:
    page = parse_text_page(
        "Site\n\nHeadline here | music news\n\nFirst paragraph.\nShare\n\n"
        "Facebook Twitter WhatsApp\n\nSecond paragraph with Show More inside it.\n\n"
        "Hollywood Trending Stories\n\nBack to top button\n"
    )
    assert page["category"] == "music"
    assert page["body"] == "First paragraph.\n\nSecond paragraph with Show More inside it."


def test_html_page_main_text_and_metadata() -> None:
    read = read_file(PAGES / "premiere-night.html")
    assert read.ok, read.problems
    page = read.articles[0]
    assert page.title == "Premiere night dazzles Mumbai"
    assert page.url == "https://fixture.example/bollywood/premiere-night"
    assert page.author == "Priya Menon"
    assert page.published_at == "2025-01-02"
    assert page.category == "bollywood"
    assert page.body.startswith("The red carpet at the premiere")
    assert '"We made this film with love,"' in page.body
    for debris in ("Home", "cricket", "Copyright"):
        assert debris not in page.body


def test_not_a_page(tmp_path: Path) -> None:
    read = read_file(write(tmp_path / "x.txt", "just one line"))
    assert not read.articles
    assert "not a scraped page" in str(read.problems[0])


def test_folder_and_missing_paths(tmp_path: Path) -> None:
    reads = read_paths([PAGES])
    assert sorted(Path(r.path).name for r in reads) == ["filmi-premiere.txt", "premiere-night.html"]
    with pytest.raises(ReaderError, match="no such file"):
        read_paths([tmp_path / "nope.jsonl"])
    with pytest.raises(ReaderError, match=r"unsupported file type '\.pdf'"):
        read_paths([write(tmp_path / "a.pdf", "x")])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a1", "title": "\\ud800 x", "body": "hello"}', "lone surrogate"),
        ('{"id": "a2", "title": "T", "body": "B", "x": "\\udfff"}', "cannot be stored"),
        ("[" * 100_000, "nested too deeply"),
        (
            '{"id": "a3", "title": "\\u0000\\u0001", "body": "\\u0007"}',
            "missing required field 'title'",
        ),
        (
            '{"id": "a4", "title": "T", "body": "B", "published_at": "0001-01-01T00:00:00+01:00"}',
            "not an ISO 8601",
        ),
        (
            '{"id": "a5", "title": "T", "body": "B", "published_at": "9999-12-31T23:59:59-01:00"}',
            "not an ISO 8601",
        ),
        ('{"id": "a6", "title": "' + "\\u0958" * 600 + '", "body": "B"}', "longer than 1,000"),
        ('{"id": "x/related", "title": "T", "body": "B"}', "invalid id"),
    ],
)
def test_hostile_records_are_rejected_with_a_reason(
    tmp_path: Path, line: str, message: str
) -> None:
    read = read_file(write(tmp_path / "hostile.jsonl", line))
    assert not read.articles
    assert len(read.problems) == 1 and message in str(read.problems[0])
    assert str(read.problems[0]).startswith(f"{tmp_path / 'hostile.jsonl'}:1: ")


def test_long_csv_cells_are_fine(tmp_path: Path) -> None:
    body = "word " * 40_000  # 200,000 characters: over the csv module's default cell limit
    read = read_file(write(tmp_path / "long.csv", f"id,title,body\nlong,Long one,{body}\n"))
    assert read.ok and len(read.articles[0].body) == len(body.strip())


def test_pages_with_the_same_title_are_different_articles(tmp_path: Path) -> None:
    one = "Site\n\nBox office report | box office\n\nFirst week numbers.\n"
    two = "Site\n\nBox office report | box office\n\nSecond week numbers.\n"
    first = read_file(write(tmp_path / "one.txt", one)).articles[0]
    second = read_file(write(tmp_path / "two.txt", two)).articles[0]
    assert first.id != second.id


def test_sentences_ending_in_trending_are_kept() -> None:
    page = parse_text_page(
        "Site\n\nSong | music news\n\nThe title song is now trending.\n\n"
        "Bollywood Trending Stories\n\nTrending Now\n"
    )
    assert page["body"] == "The title song is now trending."
