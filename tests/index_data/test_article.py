from __future__ import annotations

from datetime import datetime

import pytest

from index_data.article import article_from_record, parse_published_at
from index_data.errors import InvalidArticle


def record(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "a-1", "title": "Title", "body": "Body text."}
    base.update(overrides)
    return base


def test_optional_fields_are_normalised() -> None:
    article = article_from_record(
        record(
            category="Box Office",
            tags="SRK, Pathaan 2|srk",
            published_at="2025-03-14T09:30:00+05:30",
            author="  Priya Menon ",
            shoe_size=42,
        )
    )
    assert article.category == "box-office"
    assert article.tags == ("srk", "pathaan 2")
    assert article.author == "Priya Menon"
    assert article.extra == {"shoe_size": 42}  # unknown fields are kept, not indexed
    assert article.published_datetime() == datetime(2025, 3, 14, 4, 0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": None}, "id"),
        ({"id": "  "}, "id"),
        ({"id": "../../etc/passwd"}, "id"),
        ({"id": "has space"}, "id"),
        ({"title": ""}, "title"),
        ({"body": None}, "body"),
        ({"title": 12}, "title"),
        ({"tags": {"a": 1}}, "tags"),
        ({"published_at": "14/03/2025"}, "published_at"),
    ],
)
def test_bad_records_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        article_from_record(record(**overrides))
    assert caught.value.field == field


def test_control_characters_are_dropped_and_text_is_nfc() -> None:
    decomposed = "Beyonce\u0301 \x07sings"
    article = article_from_record(record(title=decomposed))
    assert article.title == "Beyonc\u00e9 sings"


def test_dates_accept_date_only_and_z_suffix() -> None:
    assert parse_published_at("2025-01-02") == datetime(2025, 1, 2)
    assert parse_published_at("2025-01-02T10:00:00Z") == datetime(2025, 1, 2, 10, 0)
