"""Full-text search on Whoosh: schema, analyzers, build, open read-only, query, highlight.

Knows nothing of storage, settings or HTTP: it takes paths and plain documents and returns
small frozen dataclasses.

Exception tree::

    SearchError
    ├── IndexUnavailable   the index folder is missing or cannot be opened
    ├── IndexBuildError    a process writing part of an index failed or died (build.py)
    ├── IndexWriterFailed  a document failed part way through a segment writer
    │                      (segment_writer.py; a build reports it as IndexBuildError)
    └── AliasError         an alias list that cannot be used (search/aliases.py)
"""


class SearchError(Exception):
    """Base of every error the search package raises on purpose."""


class IndexUnavailable(SearchError):
    """The index folder is missing or cannot be opened."""
