"""The data the jobs would read, located in a run's working directory or built in a scratch one.

Paths are the run's layout (:class:`mmgrid.study.layout.Layout`), read in the run's working
directory. Each domain's period shards and items table come from there when the ingest job has
written them; otherwise the package's own ingest turns the raw files into them in a scratch
directory (and, for the synthetic source, its own generator writes the raw files first), so
the counts are those of the real jobs. Samples come from ``results/samples/`` when written,
otherwise from the package's sample builder on the shards; a cell of a paradigm with semantic
IDs (``semid``) without its item index yet gets placeholder semantic IDs, which changes no count (every ID is ``levels`` whole
tokens). Tokenizers: the base's (with the semantic-ID tokens where the paradigm has them); a base built here
that does not exist yet gets its tokenizer trained as the ``base`` job trains it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mmgrid.errors import InputError
from mmgrid.paradigms import PARADIGMS
from mmgrid.study import Study

SAMPLE_COLUMNS = ["task", "timestamp", "messages"]


@dataclass(frozen=True)
class DomainData:
    """One domain's period shards (by period name), items table and where they came from."""

    shards: Mapping[str, Path]
    items: Path
    source: str


class Workspace:
    """A run's working directory (``root``) as the jobs of ``study`` would see it, with
    ``scratch`` for whatever is not there yet."""

    def __init__(
        self,
        study: Study,
        root: Path,
        scratch: Path,
        *,
        ingest: bool = True,
        log: Callable[[str], None] = print,
    ) -> None:
        self.study, self.paths = study, study.paths
        self.root, self.scratch = root, scratch
        self.ingest, self.log = ingest, log

    def path(self, relative: str) -> Path:
        """A path of the layout or the config, resolved against the working directory."""
        return self.root / relative

    @functools.cache  # noqa: B019 (one workspace per estimate; it lives as long as its caches)
    def domain(self, domain: str) -> DomainData:
        """The domain's shards and items table (see the module docstring)."""
        shards = {p.name: self.path(self.paths.shard(domain, p.name)) for p in self.study.periods}
        items = self.path(self.paths.item_table(domain))
        if items.is_file() and all(s.is_file() for s in shards.values()):
            return DomainData(shards, items, "shards")
        if not self.ingest:
            raise InputError(
                f"no shards for domain {domain} under {self.path(self.paths.root)}: run its "
                "ingest job first, or let the estimate ingest the raw files (drop --no-ingest)"
            )
        return self._ingest(domain)

    def _ingest(self, domain: str) -> DomainData:
        from mmgrid.data.ingest import ingest_domain
        from mmgrid.data.raw_files import meta_path, ratings_path

        study = self.study
        source = "raw files, ingested for the estimate"
        raw = self.path(self.paths.raw_dir)
        if study.settings.synthetic and not ratings_path(raw, domain).is_file():
            from mmgrid.data.synthetic import generate_domain

            raw = self.scratch / "raw"
            self.log(f"{domain}: generating the synthetic raw files")
            generate_domain(
                domain,
                study.settings.synthetic[domain],
                study.seed,
                ratings_path(raw, domain),
                meta_path(raw, domain),
                raw / f"{domain}.truth.json",
            )
            source = "synthetic raw files generated and ingested for the estimate"
        for path in (ratings_path(raw, domain), meta_path(raw, domain)):
            if not path.is_file():
                raise InputError(f"domain {domain}: raw file {path} does not exist (data.raw_dir)")
        self.log(f"{domain}: ingesting {ratings_path(raw, domain)}")
        settings = study.settings.ingest
        shards = {
            p.name: self.scratch / "shards" / domain / f"{p.name}.parquet" for p in study.periods
        }
        items = self.scratch / "items" / f"{domain}.parquet"
        tokenizer = None  # descriptions cut in tokens, as the ingest job cuts them
        if settings.description_max_tokens is not None:
            tokenizer = self.path(study.ingest_inputs(domain)["tokenizer"])
        ingest_domain(
            domain,
            ratings_path(raw, domain),
            meta_path(raw, domain),
            settings,
            shards,
            items,
            self.scratch / "stats" / f"{domain}.json",
            tokenizer_file=tokenizer,
        )
        return DomainData(shards, items, source)

    def shards_until(self, domain: str, period: str) -> list[Path]:
        """The domain's shards of every period that starts before ``period`` ends."""
        end = self.study.period(period).end_ms
        shards = self.domain(domain).shards
        return [shards[p.name] for p in self.study.periods if p.start_ms < end]

    def samples(self, paradigm: str, domain: str, period: str) -> pa.Table:
        """The samples table of a cell: written, or built as the samples job builds it."""
        written = self.path(self.paths.samples(paradigm, domain, period))
        if written.is_file():
            return pq.read_table(written, columns=SAMPLE_COLUMNS)
        from mmgrid.samples.build import build_samples

        job = self.study.samples_job(paradigm, domain, period)
        return build_samples(
            paradigm,
            domain,
            job.period,
            shards=self.shards_until(domain, period),
            items_path=self.domain(domain).items,
            sids_path=self._semantic_ids(domain) if PARADIGMS[paradigm].semantic_ids else None,
            is_test=job.is_test,
            is_first=job.is_first,
            settings=job.settings,
            seed=job.seed,
        ).select(SAMPLE_COLUMNS)

    @functools.cache  # noqa: B019
    def _semantic_ids(self, domain: str) -> Path:
        """The domain's semantic IDs, or placeholders (same length, so the same token counts)."""
        from mmgrid.items.index import SEMANTIC_IDS, read_items
        from mmgrid.items.tokens import format_sid

        written = self.path(self.paths.item_index(domain)) / SEMANTIC_IDS
        if written.is_file():
            return written
        levels = self.study.settings.index.levels
        ids = read_items(self.domain(domain).items)["item_id"]
        path = self.scratch / "index" / domain / SEMANTIC_IDS
        path.parent.mkdir(parents=True, exist_ok=True)
        sid = format_sid([0] * levels)
        pq.write_table(pa.table({"item_id": ids, "sid": [sid] * len(ids)}), path)
        return path

    @functools.cache  # noqa: B019
    def tokenizer(self, paradigm: str) -> Any:
        """The tokenizer a cell of ``paradigm`` trains with (see the module docstring)."""
        from mmgrid.items.tokens import semantic_id_tokens
        from mmgrid.models.tokenizer import load_tokenizer
        from mmgrid.models.vocab import add_tokens_to_tokenizer

        base = self.path(self.paths.base_llm)
        if not (base / "tokenizer.json").is_file():
            if self.study.settings.base.path:
                raise InputError(f"config key base.path: {base} holds no tokenizer.json")
            base = self._base_tokenizer()
        tokenizer = load_tokenizer(base)
        if PARADIGMS[paradigm].semantic_ids:
            index = self.study.settings.index
            add_tokens_to_tokenizer(
                tokenizer, semantic_id_tokens(index.levels, index.codebook_size)
            )
        return tokenizer

    @functools.cache  # noqa: B019
    def _base_tokenizer(self) -> Path:
        """The tokenizer the ``base`` job would train on every domain's items, saved here."""
        from mmgrid.samples.prompts import prompt_vocabulary
        from mmgrid.train.base_llm import PROMPT_REPEATS, read_item_texts, train_base_tokenizer

        self.log("training the base tokenizer as the base job would")
        items = [self.domain(d).items for d in self.study.domains]
        tokenizer, _ = train_base_tokenizer(
            read_item_texts(items),
            self.study.settings.base,
            self.study.seed,
            extra_texts=prompt_vocabulary() * PROMPT_REPEATS,
        )
        tokenizer.save_pretrained(self.scratch / "tokenizer")
        return self.scratch / "tokenizer"
