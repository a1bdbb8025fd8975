"""The related-articles half of a large build, in a process of its own beside the search index.

The TF-IDF fit is single-threaded, so while it ran one of two cores sat idle; a large build
writes the Whoosh index (two processes) and fits, in another, at the same time, and the OS
shares the cores among them. The child is spawned, not forked: the parent may hold threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from index_data.aliases import related_view
from index_data.errors import SnapshotError
from recommend.model import RelatedConfig, RelatedStats, build_related
from search.aliases import AliasTable
from search.processes import die_with_parent


def _child(
    send: Connection,
    folder: Path,
    docs: Sequence[tuple[str, str, str]],
    config: RelatedConfig,
    aliases: AliasTable | None,
    parent: int,
) -> None:
    die_with_parent(parent)  # a build killed takes its related half with it
    try:
        send.send(build_related(folder, [related_view(d, aliases) for d in docs], config))
    except BaseException as exc:  # relayed, and raised again in the parent (result)
        send.send(exc)
    finally:
        send.close()


class RelatedProcess:
    """`build_related` started now in a child process; `result()` waits for it."""

    def __init__(
        self,
        folder: Path,
        docs: Sequence[tuple[str, str, str]],
        config: RelatedConfig,
        aliases: AliasTable | None = None,
    ) -> None:
        """`docs` as (id, title, body), written by the child as `related_view` makes them."""
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child,
            args=(send, folder, list(docs), config, aliases, os.getpid()),
            daemon=True,
        )
        self._process.start()
        send.close()  # the child holds the only writing end: EOF means it died

    def result(self) -> RelatedStats:
        try:
            outcome = self._receive.recv()
        except EOFError:
            raise SnapshotError(
                f"the related-articles process died (exit code {self._process.exitcode})"
            ) from None
        finally:
            self._process.join()
            self._receive.close()
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, RelatedStats)
        return outcome

    def stop(self) -> None:
        """Ends the child if it still runs (the build failed elsewhere)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
