"""Response bodies of the HTTP API (and of the CLI's --json, which prints the same)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SearchHit(BaseModel):
    id: str
    title: str
    url: str | None
    category: str | None
    author: str | None
    published_at: str | None
    score: float | None = Field(description="BM25F relevance; null when sorted by date.")
    snippet: str = Field(description="HTML: matches in <mark>, everything else escaped.")


class SearchResponse(BaseModel):
    query: str
    corrected_query: str | None
    total: int
    page: int
    per_page: int
    took_ms: float
    snapshot_id: str
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]


class RelatedItem(BaseModel):
    id: str
    title: str
    url: str | None
    category: str | None
    published_at: str | None
    score: float = Field(description="Cosine similarity of the TF-IDF vectors.")
    shared_terms: list[str] = Field(description="The terms that made the match.")


class RelatedResponse(BaseModel):
    id: str | None = Field(description="The article's id; null for a draft.")
    snapshot_id: str
    items: list[RelatedItem]


class ArticleResponse(BaseModel):
    id: str
    title: str
    body: str
    url: str | None
    category: str | None
    tags: list[str]
    author: str | None
    published_at: str | None
    source: str | None
    lang: str | None
    snapshot_id: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class TitleSuggestion(BaseModel):
    id: str
    title: str
    url: str | None


class SuggestResponse(BaseModel):
    query: str
    completions: list[str] = Field(description="The query with its last word completed.")
    titles: list[TitleSuggestion] = Field(description="Articles whose titles match so far.")
    snapshot_id: str
