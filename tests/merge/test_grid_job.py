"""One merge job of the workflow's grid: its JSON params, the semantic-ID rows it reads at job
time from the paradigm base's tokenizer, and the merge it runs."""

from __future__ import annotations

import json

import pytest
from merge_fixtures import base_and_two, read_output, to_bytes

from mmgrid.errors import InputError
from mmgrid.merge import merge
from mmgrid.merge.grid_job import GridMergeParams, semantic_id_rows


def write_tokenizer(directory, ids: list[int]) -> None:
    """A tokenizer.json whose added tokens are <|im_end|> and semantic-ID tokens at ``ids``."""
    added = [{"id": 3, "content": "<|im_end|>"}] + [
        {"id": i, "content": f"<{'ab'[n // 4]}_{n % 4}>"} for n, i in enumerate(ids)
    ]
    (directory / "tokenizer.json").write_text(json.dumps({"added_tokens": added}))


def test_semantic_id_rows_from_tokenizer(tmp_path):
    write_tokenizer(tmp_path, list(range(10, 18)))
    assert semantic_id_rows(tmp_path) == (10, 18)
    write_tokenizer(tmp_path, [*range(10, 17), 40])
    with pytest.raises(InputError, match="contiguous"):
        semantic_id_rows(tmp_path)


def test_params_survive_json_and_the_job_keeps_the_source_rows(tmp_path):
    ckpt = base_and_two(tmp_path)
    write_tokenizer(ckpt["base"], list(range(32, 40)))  # the last 8 of 40 vocabulary rows
    params = GridMergeParams(
        method="ties",
        options={"mask_rate": 0.5},
        inputs=(("a", str(ckpt["a"]), 0.5), ("b", str(ckpt["b"]), 0.5)),
        reference=str(ckpt["base"]),
        source="b",
        sid_rows_from="b",
        chunk_elems=64,
    )
    decoded = GridMergeParams.from_params(json.loads(json.dumps(params.to_params())))
    assert decoded == params
    decoded.run(tmp_path / "job", sid_base=ckpt["base"], log=lambda _: None)
    merge(params.engine_spec((32, 40)), tmp_path / "direct", chunk_elems=64)
    job, direct = read_output(tmp_path / "job"), read_output(tmp_path / "direct")
    assert {k: to_bytes(v) for k, v in job.items()} == {k: to_bytes(v) for k, v in direct.items()}
    b = read_output(ckpt["b"])  # the source's ID rows, copied
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        assert to_bytes(job[name][32:]) == to_bytes(b[name][32:])
    with pytest.raises(ValueError, match="needs the semid base"):
        decoded.run(tmp_path / "again", log=lambda _: None)
