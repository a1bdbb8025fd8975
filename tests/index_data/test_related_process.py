"""The related half of a large build, in a spawned process: its answer comes back, and its
error is raised in the build as the very exception it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from index_data.related_process import RelatedProcess
from recommend.model import RelatedConfig
from search.aliases import AliasTable

DOCS = [
    (f"story-{n}", f"Monsoon premiere {n}", f"The film {n} opens with a monsoon song and dance.")
    for n in range(30)
]


def test_the_answer_comes_back(tmp_path: Path) -> None:
    aliases = AliasTable.parse("Shah Rukh Khan = SRK\n", "test")
    stats = RelatedProcess(tmp_path / "related", DOCS, RelatedConfig(), aliases).result()
    assert stats.articles == 30
    assert (tmp_path / "related" / "neighbours.npy").is_file()


def test_an_error_in_the_process_is_raised_as_itself(tmp_path: Path) -> None:
    taken = tmp_path / "related"
    taken.write_text("a file where the folder should go", encoding="utf-8")
    with pytest.raises(FileExistsError):
        RelatedProcess(taken, DOCS, RelatedConfig()).result()
