"""The data the jobs would read, located in a run's working directory or built in a scratch one.

Each domain's period shards and items table come from ``results/`` when the ingest job has
written them; otherwise the package's own ingest turns the raw files into them in a scratch
directory (and, for the synthetic source, its own generator writes the raw files first), so
the counts are those of the real jobs. Samples come from ``results/samples/`` when written,
otherwise from the package's sample builder on the shards; a ``semid`` cell without its item
index yet gets placeholder semantic IDs, which changes no count (every ID is ``levels`` whole
tokens). Tokenizers: the base's (with the semantic-ID tokens for ``semid``); a base built here
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

from mmgrid import grid
from mmgrid.data.raw_files import meta_path, ratings_path
from mmgrid.errors import InputError
from mmgrid.samples.settings import settings_from_config as samples_from_config

SAMPLE_COLUMNS = ["task", "timestamp", "messages"]


@dataclass(frozen=True)
class DomainData:
    """One domain's period shards (by period name), items table and where they came from."""

    shards: Mapping[str, Path]
    items: Path
    source: str


class Workspace:
    """A run's working directory (``root``, holding ``results/``) as the jobs would see it, with
    ``scratch`` for whatever is not there yet."""

    def __init__(
        self,
        config: Mapping[str, Any],
        root: Path,
        scratch: Path,
        *,
        ingest: bool = True,
        log: Callable[[str], None] = print,
    ) -> None:
        self.config, self.root, self.scratch = config, root, scratch
        self.ingest, self.log = ingest, log
        self.periods = grid.periods_from_config(config)
        self.period = {p.name: p for p in self.periods}
        self.training_periods = [p.name for p in grid.training_periods(config)]
        self.test_period = grid.evaluation_period(config).name
        self.samples_settings = samples_from_config(config["samples"])

    def path(self, relative: str) -> Path:
        """A path of the config or the workflow, resolved against the working directory."""
        return self.root / relative

    @functools.cache  # noqa: B019 (one workspace per estimate; it lives as long as its caches)
    def domain(self, domain: str) -> DomainData:
        """The domain's shards and items table (see the module docstring)."""
        names = [p.name for p in self.periods]
        shards = {p: self.path(f"results/shards/{domain}/{p}.parquet") for p in names}
        items = self.path(f"results/items/{domain}.parquet")
        if items.is_file() and all(s.is_file() for s in shards.values()):
            return DomainData(shards, items, "shards")
        if not self.ingest:
            raise InputError(
                f"no shards for domain {domain} under {self.root / 'results'}: run its ingest "
                "job first, or let the estimate ingest the raw files (drop --no-ingest)"
            )
        return self._ingest(domain)

    def _ingest(self, domain: str) -> DomainData:
        from mmgrid.data.ingest import ingest_domain, settings_from_params

        data = self.config["data"]
        source = "raw files, ingested for the estimate"
        raw = self.path("results/raw") if data["source"] == "synthetic" else Path(data["raw_dir"])
        raw = raw if raw.is_absolute() else self.root / raw
        if data["source"] == "synthetic" and not ratings_path(raw, domain).is_file():
            from mmgrid.data.synthetic import generate_domain, settings_from_config

            raw = self.scratch / "raw"
            self.log(f"{domain}: generating the synthetic raw files")
            generate_domain(
                domain,
                settings_from_config(data["synthetic"], domain),
                self.config["seed"],
                ratings_path(raw, domain),
                meta_path(raw, domain),
                raw / f"{domain}.truth.json",
            )
            source = "synthetic raw files generated and ingested for the estimate"
        for path in (ratings_path(raw, domain), meta_path(raw, domain)):
            if not path.is_file():
                raise InputError(f"domain {domain}: raw file {path} does not exist (data.raw_dir)")
        self.log(f"{domain}: ingesting {ratings_path(raw, domain)}")
        settings = settings_from_params(
            {
                "periods": self.config["periods"],
                "kcore": self.config["kcore"],
                "description_max_chars": data["description_max_chars"],
                "recency_days": sorted(data["recency_days"]),
            }
        )
        shards = {
            p.name: self.scratch / "shards" / domain / f"{p.name}.parquet" for p in self.periods
        }
        items = self.scratch / "items" / f"{domain}.parquet"
        ingest_domain(
            domain,
            ratings_path(raw, domain),
            meta_path(raw, domain),
            settings,
            shards,
            items,
            self.scratch / "stats" / f"{domain}.json",
        )
        return DomainData(shards, items, source)

    def shards_until(self, domain: str, period: str) -> list[Path]:
        """The domain's shards of every period that starts before ``period`` ends."""
        end = self.period[period].end_ms
        shards = self.domain(domain).shards
        return [shards[p.name] for p in self.periods if p.start_ms < end]

    def samples(self, paradigm: str, domain: str, period: str) -> pa.Table:
        """The samples table of a (title or semid) cell: written, or built as the job builds it."""
        written = self.path(f"results/samples/{paradigm}/{domain}/{period}.parquet")
        if written.is_file():
            return pq.read_table(written, columns=SAMPLE_COLUMNS)
        from mmgrid.samples.build import build_samples

        data = self.domain(domain)
        return build_samples(
            paradigm,
            domain,
            self.period[period],
            shards=self.shards_until(domain, period),
            items_path=data.items,
            sids_path=self._semantic_ids(domain) if paradigm == "semid" else None,
            is_test=period == self.test_period,
            is_first=period == self.training_periods[0],
            settings=self.samples_settings,
            seed=self.config["seed"],
        ).select(SAMPLE_COLUMNS)

    @functools.cache  # noqa: B019
    def _semantic_ids(self, domain: str) -> Path:
        """The domain's semantic IDs, or placeholders (same length, so the same token counts)."""
        from mmgrid.items.index import SEMANTIC_IDS, read_items
        from mmgrid.items.tokens import format_sid

        written = self.path(f"results/index/{domain}/{SEMANTIC_IDS}")
        if written.is_file():
            return written
        from mmgrid.items.settings import settings_from_config

        levels = settings_from_config(self.config["index"]).levels
        ids = read_items(self.domain(domain).items)["item_id"]
        path = self.scratch / "index" / domain / SEMANTIC_IDS
        path.parent.mkdir(parents=True, exist_ok=True)
        sid = format_sid([0] * levels)
        pq.write_table(pa.table({"item_id": ids, "sid": [sid] * len(ids)}), path)
        return path

    @functools.cache  # noqa: B019
    def tokenizer(self, paradigm: str) -> Any:
        """The tokenizer a cell of ``paradigm`` trains with (see the module docstring)."""
        from mmgrid.items.settings import settings_from_config as index_from_config
        from mmgrid.items.tokens import semantic_id_tokens
        from mmgrid.models.tokenizer import load_tokenizer
        from mmgrid.models.vocab import add_tokens_to_tokenizer

        base = Path(grid.base_llm_dir(self.config))
        base = base if base.is_absolute() else self.root / base
        if not (base / "tokenizer.json").is_file():
            if self.config["base"].get("path"):
                raise InputError(f"config key base.path: {base} holds no tokenizer.json")
            base = self._base_tokenizer()
        tokenizer = load_tokenizer(base)
        if paradigm == "semid":
            index = index_from_config(self.config["index"])
            add_tokens_to_tokenizer(
                tokenizer, semantic_id_tokens(index.levels, index.codebook_size)
            )
        return tokenizer

    @functools.cache  # noqa: B019
    def _base_tokenizer(self) -> Path:
        """The tokenizer the ``base`` job would train on every domain's items, saved here."""
        from mmgrid.models.base import PROMPT_REPEATS, read_item_texts, train_base_tokenizer
        from mmgrid.models.settings import settings_from_config
        from mmgrid.samples.prompts import prompt_vocabulary

        self.log("training the base tokenizer as the base job would")
        items = [self.domain(d).items for d in grid.domains(self.config)]
        tokenizer, _ = train_base_tokenizer(
            read_item_texts(items),
            settings_from_config(self.config["base"]),
            self.config["seed"],
            extra_texts=prompt_vocabulary() * PROMPT_REPEATS,
        )
        tokenizer.save_pretrained(self.scratch / "tokenizer")
        return self.scratch / "tokenizer"
