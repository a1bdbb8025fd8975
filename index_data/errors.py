"""Exceptions raised by index_data (the tree is drawn in the package docstring)."""


class IndexDataError(Exception):
    """Base of every error index_data raises on purpose."""


class InvalidArticle(IndexDataError):
    """A record that breaks the Article rules; `field` names the culprit when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidBatch(IndexDataError):
    """A batch of records with at least one bad record; `problems` has (index, field, message)."""

    def __init__(self, problems: list[tuple[int, str | None, str]]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"item {first[0]}: {first[2]}{more}")
        self.problems = problems


class ReaderError(IndexDataError):
    """A file that cannot be read at all (missing, unsupported type, undecodable)."""


class StoreError(IndexDataError):
    """The ArticleStore cannot be opened or written."""


class SnapshotError(IndexDataError):
    """Base of snapshot problems."""


class SnapshotNotFound(SnapshotError):
    """No snapshot with that id, or nothing published yet."""


class InvalidSnapshotId(SnapshotError):
    """A snapshot id that is not of the form `build` creates (also guards against paths)."""


class BrokenSnapshot(SnapshotError):
    """A snapshot whose manifest is missing or whose files do not match it."""


class BuildInProgress(SnapshotError):
    """Another build holds the build lock."""
