"""The data lifecycle: articles, readers, the ArticleStore, snapshots, build and publish.

This is the one package that knows both engines (`search` and `recommend`) and storage.

Exception tree::

    IndexDataError
    ├── InvalidArticle        one record breaks the Article rules (field, message)
    ├── InvalidBatch          some records of a batch do (index, field, message each)
    ├── ReaderError           a whole file cannot be read (missing, unknown type, bad encoding)
    ├── StoreError            the ArticleStore cannot be opened or written
    └── SnapshotError
        ├── SnapshotNotFound  no snapshot with that id, or none published yet
        ├── InvalidSnapshotId an id that is not of the form we create
        ├── BrokenSnapshot    manifest missing, counts or checksums do not match
        └── BuildInProgress   another build holds the build lock
"""
