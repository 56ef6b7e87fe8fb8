"""The synthetic world: Amazon Reviews 2023 format files with planted item recency.

- ``generator``: the behavioural model and :func:`generate_domain` (one domain's files);
- ``settings``: :class:`SyntheticSettings`, resolved per domain from ``data.synthetic``;
- ``profiles``: the named domain profiles, read from the data files ``profiles/{Domain}.yaml``;
- ``meta_text``: item titles, descriptions and the other meta fields, rendered from a profile.

``python -m mmgrid.data.synthetic --domain Books --out DIR`` writes one domain's files.
"""

from mmgrid.data.synthetic.generator import STUDY_BOUNDARIES, RecencyModel, generate_domain
from mmgrid.data.synthetic.settings import KNOWN_DOMAINS, SyntheticSettings, settings_from_config

__all__ = [
    "KNOWN_DOMAINS",
    "STUDY_BOUNDARIES",
    "RecencyModel",
    "SyntheticSettings",
    "generate_domain",
    "settings_from_config",
]
