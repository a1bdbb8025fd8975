"""The front doors: FastAPI app factory, routes, settings, errors, and the `gupshup` CLI.

Nothing imports `api`. Exception tree (request problems the doors report)::

    RequestError          a caller's request cannot be answered as asked (maps to 4xx / exit 2)
    ├── InvalidParameter  a parameter breaks a documented rule (422)
    ├── NotFound          unknown article (404)
    └── NotReady          no snapshot is published yet (503)
"""
