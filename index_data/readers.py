"""Readers that turn JSONL, CSV, scraped text pages and HTML pages into Articles.

Every reader reports problems with the file and line they come from; nothing is skipped
silently. A caller decides whether a file with problems is rejected whole (the default for
ingest) or only its bad records are (`--skip-invalid`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index_data.article import MAX_BODY_CHARS, Article, article_from_record
from index_data.errors import InvalidArticle, ReaderError

PAGE_SUFFIXES = {".txt", ".html", ".htm"}
RECORD_SUFFIXES = {".jsonl", ".ndjson", ".csv"}
SUPPORTED_SUFFIXES = PAGE_SUFFIXES | RECORD_SUFFIXES
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class RecordProblem:
    """One rejected record (or a whole unreadable file when `line` is None)."""

    path: str
    line: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class FileRead:
    """What one file yielded: its valid articles and its problems, in file order."""

    path: str
    articles: tuple[Article, ...]
    problems: tuple[RecordProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_paths(paths: list[str | Path]) -> list[FileRead]:
    """Read every file named, expanding folders to the supported files inside them."""
    reads: list[FileRead] = []
    for path in paths:
        for file_path in _expand(Path(path)):
            reads.append(read_file(file_path))
    return reads


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        )
        if not files:
            raise ReaderError(
                f"{path}: folder holds no {', '.join(sorted(SUPPORTED_SUFFIXES))} files"
            )
        return files
    if not path.exists():
        raise ReaderError(f"{path}: no such file or folder")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ReaderError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
            f"expected one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    return [path]


def read_file(path: Path) -> FileRead:
    """Read one file of a supported type; the suffix picks the reader."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileRead(name, (), (RecordProblem(name, None, f"cannot read file: {exc.strerror}"),))
    if len(data) > MAX_FILE_BYTES:
        problem = RecordProblem(name, None, f"file is larger than {MAX_FILE_BYTES:,} bytes")
        return FileRead(name, (), (problem,))
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        items = list(_jsonl_records(name, data))
    else:
        try:
            text = _decode(name, data)
        except _DecodeProblem as exc:
            return FileRead(name, (), (exc.problem,))
        if suffix == ".csv":
            items = list(_csv_records(name, text))
        elif suffix == ".txt":
            items = [_one_page(name, lambda: parse_text_page(text))]
        else:
            items = [_one_page(name, lambda: parse_html_page(text))]
    return _collect(name, items)


class _DecodeProblem(Exception):
    def __init__(self, problem: RecordProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _decode(name: str, data: bytes, line: int | None = None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = line if line is not None else data[: exc.start].count(b"\n") + 1
        message = f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        raise _DecodeProblem(RecordProblem(name, bad_line, message)) from None


Item = tuple[int | None, "Article | RecordProblem"]


def _collect(name: str, items: list[Item]) -> FileRead:
    """Split items into articles and problems; a repeated id inside one file is a problem."""
    articles: list[Article] = []
    problems: list[RecordProblem] = []
    first_line: dict[str, int | None] = {}
    for line, item in items:
        if isinstance(item, RecordProblem):
            problems.append(item)
        elif item.id in first_line:
            seen = first_line[item.id]
            where = f" (first on line {seen})" if seen is not None else ""
            problems.append(RecordProblem(name, line, f"duplicate id {item.id!r}{where}", "id"))
        else:
            first_line[item.id] = line
            articles.append(item)
    return FileRead(name, tuple(articles), tuple(problems))


def _from_mapping(name: str, line: int, record: Mapping[str, Any]) -> Item:
    try:
        return line, article_from_record(record)
    except InvalidArticle as exc:
        return line, RecordProblem(name, line, exc.message, exc.field)


def _jsonl_records(name: str, data: bytes) -> Iterator[Item]:
    # Decoded line by line so one badly encoded line is reported (and skippable) on its own.
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            text = _decode(name, raw if number > 1 else raw.removeprefix(b"\xef\xbb\xbf"), number)
        except _DecodeProblem as exc:
            yield number, exc.problem
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield (
                number,
                RecordProblem(name, number, f"invalid JSON: {exc.msg} (column {exc.colno})"),
            )
            continue
        except RecursionError:
            yield number, RecordProblem(name, number, "invalid JSON: nested too deeply")
            continue
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            yield number, RecordProblem(name, number, f"invalid JSON: {exc}"[:300])
            continue
        if not isinstance(record, dict):
            kind = type(record).__name__
            yield number, RecordProblem(name, number, f"expected a JSON object, got {kind}")
            continue
        yield _from_mapping(name, number, record)


def _csv_records(name: str, text: str) -> Iterator[Item]:
    # Bodies may be long; the csv module's default cell limit (128 KiB) is not ours.
    csv.field_size_limit(MAX_BODY_CHARS + 1)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        yield 1, RecordProblem(name, 1, f"malformed CSV header: {exc}")
        return
    if not header:
        yield 1, RecordProblem(name, 1, "empty CSV file (expected a header row)")
        return
    header_names = [h.strip().lower() for h in header]
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                yield (
                    line,
                    RecordProblem(
                        name, line, f"row has more cells than the header's {len(header)}"
                    ),
                )
                continue
            values = [v.strip() if isinstance(v, str) else v for v in row.values()]
            record = {
                h: v for h, v in zip(header_names, values, strict=True) if v not in ("", None)
            }
            yield _from_mapping(name, line, record)
    except csv.Error as exc:
        yield reader.line_num, RecordProblem(name, reader.line_num, f"malformed CSV: {exc}")


def _one_page(name: str, parse: Any) -> Item:
    try:
        record = parse()
        if not record.get("id"):
            record["id"] = derive_page_id(record)
        return None, article_from_record(record)
    except InvalidArticle as exc:
        return None, RecordProblem(name, None, exc.message, exc.field)


def derive_page_id(record: Mapping[str, Any]) -> str:
    """A stable id for a page that has none: from its URL if known, else from its content
    (site name, title and text), so two different pages never share one."""
    basis = record.get("url") or "\n".join(
        str(record.get(k) or "") for k in ("source", "title", "body")
    )
    digest = hashlib.sha1(str(basis).encode("utf-8")).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "-", str(record.get("title") or "page").lower()).strip("-")
    return f"{slug[:60].strip('-') or 'page'}-{digest}"


# Theme boilerplate that news sites' pages carry; matched against whole lines (case-insensitive).
BOILERPLATE_LINES = {
    "show more",
    "show less",
    "read more",
    "related articles",
    "related posts",
    "related stories",
    "leave a reply",
    "leave a comment",
    "back to top button",
    "back to top",
    "share",
    "share this",
    "share this article",
    "advertisement",
    "sponsored",
    "post comment",
    "you may also like",
    "also read",
    "more stories",
    "load more",
    "cancel reply",
    "follow us",
    "comments",
}
BOILERPLATE_PATTERNS = [
    # Widget headings such as "Bollywood Trending Stories" or "Trending Now", not sentences
    # that happen to end in "trending".
    re.compile(r"^([\w&'-]+ ){0,3}trending (stories|news|articles|posts)$", re.IGNORECASE),
    re.compile(r"^trending( now)?$", re.IGNORECASE),
    re.compile(
        r"^((facebook|twitter|x|whatsapp|telegram|pinterest|linkedin|reddit|email|"
        r"print|tumblr|share via|copy link)[\s,|]*)+$",
        re.IGNORECASE,
    ),
    re.compile(r"your email address will not be published", re.IGNORECASE),
    re.compile(r"^save my name, email", re.IGNORECASE),
    re.compile(r"required fields are marked", re.IGNORECASE),
    re.compile(r"^(follow|subscribe to) us on\b", re.IGNORECASE),
]


def is_boilerplate(line: str) -> bool:
    text = line.strip()
    if text.lower().rstrip(".:!") in BOILERPLATE_LINES:
        return True
    return any(pattern.search(text) for pattern in BOILERPLATE_PATTERNS)


def parse_text_page(text: str) -> dict[str, Any]:
    """Recover site name, title, section and a clean body from a page saved as plain text.

    Layout: site name; `Headline | section`; paragraphs, with theme boilerplate mixed in and
    at the end. Blocks are separated by blank lines.
    """
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    if len(blocks) < 3:
        raise InvalidArticle(
            "not a scraped page: expected site name, 'Headline | section' and paragraphs, "
            "separated by blank lines",
            field="body",
        )
    source, heading, *rest = blocks
    title, _, section = heading.rpartition(" | ")
    if not title:
        title, section = heading, ""
    paragraphs = [_clean_block(block) for block in rest]
    body = "\n\n".join(p for p in paragraphs if p)
    category = re.sub(r"\s+news$", "", section.strip(), flags=re.IGNORECASE)
    return {"source": source, "title": title.strip(), "category": category or None, "body": body}


def _clean_block(block: str) -> str:
    lines = [line.strip() for line in block.split("\n")]
    return "\n".join(line for line in lines if line and not is_boilerplate(line))


def parse_html_page(html: str) -> dict[str, Any]:
    """Extract the main text and metadata of an HTML news page with trafilatura."""
    import trafilatura  # imported here: it is heavy and only HTML ingest needs it

    extracted = trafilatura.extract(
        html,
        output_format="json",
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
    )
    if not extracted:
        raise InvalidArticle("no article text found in the HTML page", field="body")
    meta = json.loads(extracted)
    title = (meta.get("title") or "").strip()
    lines = [line.strip() for line in (meta.get("text") or "").split("\n") if line.strip()]
    # trafilatura keeps the page's <h1> as the first line of text; it is the headline.
    if lines and title and lines[0].lower().startswith(title.lower()):
        title = lines.pop(0)
    body = "\n\n".join(line for line in lines if not is_boilerplate(line))
    categories = meta.get("categories") or ""
    return {
        "title": title,
        "body": body,
        "url": meta.get("source"),
        "author": meta.get("author"),
        "published_at": meta.get("date"),
        "source": meta.get("source-hostname") or meta.get("hostname"),
        "category": categories.split(";")[0].strip() or None if categories else None,
        "tags": meta.get("tags") or None,
        "lang": meta.get("language"),
    }
