"""A rebuild started through the admin API runs in a process of its own, which receives the
build settings as JSON: every setting must arrive as the server had it."""

from __future__ import annotations

from index_data.build import BuildConfig
from index_data.rebuild import config_from_json, config_to_json
from recommend.model import RelatedConfig
from recommend.vectorize import VectorizerConfig


def test_every_build_setting_reaches_the_rebuild_process() -> None:
    config = BuildConfig(
        related=RelatedConfig(
            k=7,
            min_score=0.1,
            duplicate_threshold=0.8,
            vectorizer=VectorizerConfig(lsa_dims=0, lsa_weight=0.0),
        ),
        index_procs=3,
        index_memory_mb=64,
        aliases=False,
    )
    assert config != BuildConfig()
    assert config_from_json(config_to_json(config)) == config
