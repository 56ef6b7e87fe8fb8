"""The shared base LLM: its settings, tokenizer, loading and vocabulary (built and pre-trained by
:mod:`mmgrid.train.base_llm`).

Modules (import them directly; this package imports nothing heavy so that reading settings
stays cheap):

- ``settings``: the ``base:`` config section as dataclasses (no torch import).
- ``tokenizer``: ByteLevel BPE trained on item texts, chat special tokens, Qwen-style template.
- ``loading``: device/dtype choice, validation of local model directories, offline loading.
- ``vocab``: add semantic-ID tokens and resize the embeddings deterministically.
"""

import os

# Everything here loads from local directories; make sure no library reaches for the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
