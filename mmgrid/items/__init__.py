"""Per-domain item index: text embeddings and semantic IDs.

Importing this package is cheap: torch and sentence-transformers load only with an encoder,
scikit-learn only when codes are fitted.
"""

from mmgrid.items.encoder import TextEncoder
from mmgrid.items.index import ItemIndex, build_index, load_index, read_items
from mmgrid.items.semantic_ids import (
    SemanticIds,
    build_semantic_ids,
    collision_rate,
    residual_kmeans,
    resolve_collisions,
)
from mmgrid.items.settings import DEFAULT_ENCODER, IndexSettings, settings_from_config
from mmgrid.items.text import item_text
from mmgrid.items.tokens import format_sid, parse_sid, semantic_id_tokens

__all__ = [
    "DEFAULT_ENCODER",
    "IndexSettings",
    "ItemIndex",
    "SemanticIds",
    "TextEncoder",
    "build_index",
    "build_semantic_ids",
    "collision_rate",
    "format_sid",
    "item_text",
    "load_index",
    "parse_sid",
    "read_items",
    "residual_kmeans",
    "resolve_collisions",
    "semantic_id_tokens",
    "settings_from_config",
]
