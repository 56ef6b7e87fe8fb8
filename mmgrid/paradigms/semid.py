"""``semid`` (semantic IDs, LC-Rec-style): history as semantic IDs -> the next item's ID.

The chain starts from the base LLM with the semantic-ID tokens added (``base/semid``). Samples
read the item index's IDs and add the alignment tasks; evaluation is a trie-constrained beam
search over the domain's IDs. Cross-domain merges keep the evaluated domain's ID rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mmgrid.items.settings import IndexSettings
from mmgrid.paradigms.chat_paradigm import ChatCellJob, ChatParadigm, SemanticIdShape
from mmgrid.paradigms.protocol import Log
from mmgrid.settings import OMIT_AT_DEFAULT, JobParams

if TYPE_CHECKING:
    from mmgrid.study import Study
    from mmgrid.study.cells import Cell
    from mmgrid.study.layout import Layout


@dataclass(frozen=True)
class SemidBaseJob(JobParams):
    """The base LLM with ``levels x codebook_size`` semantic-ID tokens added, their rows drawn
    ``token_init_noise`` apart (``index.token_init_noise``)."""

    levels: int
    codebook_size: int
    seed: int
    token_init_noise: float = field(
        default=IndexSettings.token_init_noise, metadata=OMIT_AT_DEFAULT
    )


class Semid(ChatParadigm):
    def __init__(self) -> None:
        super().__init__("semid", semantic_ids=True)

    def base_dir(self, paths: Layout) -> str:
        return paths.paradigm_base(self.name)

    def base_job(self, study: Study) -> SemidBaseJob:
        index = study.settings.index
        return SemidBaseJob(index.levels, index.codebook_size, study.seed, index.token_init_noise)

    def build_base(self, params: Mapping[str, Any], base_llm: str, out: str, log: Log) -> None:
        from mmgrid.models.vocab import write_semid_base

        job = SemidBaseJob.from_params(params)
        summary = write_semid_base(
            base_llm,
            out,
            levels=job.levels,
            codebook_size=job.codebook_size,
            seed=job.seed,
            noise_scale=job.token_init_noise,
        )
        log(f"read {base_llm}; wrote {out}: {summary}")

    def samples_inputs(self, study: Study, domain: str, period: str) -> dict[str, Any]:
        return {
            **super().samples_inputs(study, domain, period),
            "index": study.paths.item_index(domain),
        }

    def train_job(self, study: Study, cell: Cell) -> ChatCellJob:
        index = study.settings.index
        shape = SemanticIdShape(index.levels, index.codebook_size)
        return replace(super().train_job(study, cell), semantic_ids=shape)


SEMID = Semid()
