"""The related-articles half of a large build, in a process of its own beside the search index.

The TF-IDF fit is single-threaded, so while it ran one of two cores sat idle; a large build
writes the Whoosh index (two processes) and fits, in another, at the same time, and the OS
shares the cores among them. The child is spawned, not forked: the parent may hold threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index_data.aliases import related_view
from index_data.errors import SnapshotError
from recommend.model import RelatedConfig, RelatedStats, build_related
from search.aliases import AliasTable
from search.processes import ChildDied, ChildProcess, ChildRaised


def _related(
    folder: Path,
    docs: Sequence[tuple[str, str, str]],
    config: RelatedConfig,
    aliases: AliasTable | None,
) -> RelatedStats:
    return build_related(folder, [related_view(d, aliases) for d in docs], config)


class RelatedProcess:
    """`build_related` started now in a child process; `result()` waits for it."""

    def __init__(
        self,
        folder: Path,
        docs: Sequence[tuple[str, str, str]],
        config: RelatedConfig,
        aliases: AliasTable | None = None,
    ) -> None:
        """`docs` as (id, title, body), written by the child as `related_view` makes them
        (it dies with the build: processes.py)."""
        self._child = ChildProcess("spawn", _related, folder, list(docs), config, aliases)

    def result(self) -> RelatedStats:
        try:
            return self._child.result()
        except ChildDied as died:
            raise SnapshotError(
                f"the related-articles process died (exit code {died.exitcode})"
            ) from None
        except ChildRaised as raised:
            raise raised.error from None

    def stop(self) -> None:
        """Ends the child if it still runs (the build failed elsewhere)."""
        self._child.stop()
