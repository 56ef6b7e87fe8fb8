"""Training: one readable loop (``loop``) and what it runs.

- ``base_llm``: the tokenizer and the tiny base LLM pre-trained on item texts;
- ``chat_cell``: one ``title`` or ``semid`` cell (a causal LM on chat samples, full or LoRA);
- ``loop``, ``schedule``, ``batching``, ``packing``, ``losses``, ``chat``, ``flops``: the loop,
  its learning-rate schedule, batch collation and sequence packing, the losses, chat rendering
  and FLOP counting;
- ``settings``: the ``train:`` section, resolved per cell.
"""
