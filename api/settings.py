"""Settings: one object built at the edge (environment, prefix GUPSHUP_) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index_data.build import BuildConfig
from recommend.model import RelatedConfig
from recommend.vectorize import VectorizerConfig


class Settings(BaseSettings):
    """Every knob of the service; the README lists each one (a test checks that)."""

    model_config = SettingsConfigDict(env_prefix="GUPSHUP_", extra="ignore")

    data_dir: Path = Field(
        Path("var"), description="Folder for everything the engine writes: store, snapshots."
    )
    host: str = Field("127.0.0.1", description="Address `gupshup serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `gupshup serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes for `gupshup serve`.")
    threads: int = Field(
        4,
        ge=1,
        le=64,
        description="Threads per worker answering requests; each keeps its own Whoosh searcher.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the server and CLI."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser, comma-separated "
        "(e.g. https://news.example,https://www.news.example).",
    )
    cache_max_age: int = Field(
        60, ge=0, description="Seconds browsers and CDNs may cache GET answers."
    )
    max_query_chars: int = Field(200, ge=1, description="Longest accepted search query.")
    max_per_page: int = Field(50, ge=1, description="Largest `per_page` of a search.")
    max_result_depth: int = Field(
        1000, ge=1, description="Deepest result reachable by paging (page x per_page)."
    )
    max_related: int = Field(50, ge=1, description="Largest `limit` of a related list.")
    max_suggestions: int = Field(20, ge=1, description="Largest `limit` of /api/suggest.")
    max_draft_chars: int = Field(
        50_000, ge=1, description="Longest title + body accepted by POST /api/related."
    )
    recency_weight: float = Field(
        0.15,
        ge=0,
        description="Relevance boost for fresh stories: score x "
        "(1 + weight x 0.5^(age/half-life)); 0 turns it off.",
    )
    recency_half_life_days: float = Field(
        14.0, gt=0, description="Age in days at which the recency boost has halved."
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token for /api/admin/*; without one the admin API is off.",
    )
    admin_login_failures: int = Field(
        10,
        ge=0,
        description="Failed admin logins a client may make at once (then one every 6 s) "
        "before it gets 429; 0: no limit.",
    )
    admin_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve the admin API on this port only (its own process), not beside the "
        "public API; unset: both on one port.",
    )
    admin_host: str = Field(
        "127.0.0.1", description="Address the admin API binds to when it has its own port."
    )
    max_batch_articles: int = Field(
        1000, ge=1, description="Most articles in one POST /api/admin/articles."
    )
    max_body_bytes: int = Field(
        10_000_000, ge=1, description="Largest admin request body; bigger ones get 413."
    )
    access_log: bool = Field(True, description="Write one JSON access-log line per request.")
    rate_limit: float = Field(
        0.0,
        ge=0,
        description="Public /api/ requests a second allowed per client address, per worker "
        "(0: no limit); past it, 429 with Retry-After.",
    )
    rate_limit_burst: int = Field(
        20, ge=1, description="Requests a client may send at once before the rate applies."
    )
    snapshot_poll_seconds: float = Field(
        1.0, gt=0, description="How often each worker checks CURRENT for a new snapshot."
    )
    related_k: int = Field(
        20, ge=1, le=200, description="Neighbours precomputed per article at build time."
    )
    duplicate_threshold: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Related score at or above which two articles count as duplicates.",
    )
    lsa_dims: int = Field(
        10, ge=0, le=500, description="Dimensions of the LSA part of related-article vectors."
    )
    lsa_weight: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Share of the LSA cosine in the related-article score (0: TF-IDF only).",
    )
    index_procs: int = Field(
        0,
        ge=0,
        le=16,
        description="Processes Whoosh indexes with (0: two from 20,000 articles, else one).",
    )
    index_memory_mb: int = Field(
        0,
        ge=0,
        le=65_536,
        description="Memory (MB) each index process pools the postings of ids, keys, "
        "categories and suggestion words in before it sorts them into temporary files (the "
        "words of titles, bodies, tags and authors are kept in arrays, never spilled); 0: an "
        "eighth of the machine's memory, at most 2048.",
    )
    search_cache_size: int = Field(
        2048,
        ge=0,
        le=1_000_000,
        description="Search answers each worker keeps for repeated queries (0: no cache).",
    )
    aliases: bool = Field(
        True,
        description="Search every variant of a name in the alias list (data dir's aliases.txt, "
        "else the starter list) when a query uses one, and build related vectors with every "
        "variant written as its group's first spelling.",
    )
    phonetic: bool = Field(
        True,
        description="When few articles have every word, also match romanised spelling "
        "variants (pathan/pathaan, kapur/kapoor), ranked below exact matches.",
    )
    fuzzy: bool = Field(
        True,
        description="When few articles have every word, also search the corrected spelling "
        "of likely typos (the query offered as corrected_query), ranked below exact matches.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def store_path(self) -> Path:
        return self.data_dir / "articles.db"


def build_config(settings: Settings) -> BuildConfig:
    """What a build needs of the settings (the CLI's builds and the API's rebuilds alike)."""
    return BuildConfig(
        related=RelatedConfig(
            k=settings.related_k,
            duplicate_threshold=settings.duplicate_threshold,
            vectorizer=VectorizerConfig(lsa_dims=settings.lsa_dims, lsa_weight=settings.lsa_weight),
        ),
        index_procs=settings.index_procs,
        index_memory_mb=settings.index_memory_mb,
        aliases=settings.aliases,
    )
