"""The study a config describes, in one object: :class:`Study`.

``Study.from_config(config)`` validates the whole config and owns what follows from it:

- ``config`` (:mod:`.config`, :mod:`.canonical`): strict reading, the schema, canonical order;
- ``settings`` (:mod:`.settings`): every section's settings and the checks across sections;
- ``paths`` (:mod:`.layout`): where every artefact of a run lives;
- ``cells`` (:mod:`.cells`): the training jobs and the chain that says where each starts;
- ``merges`` (:mod:`.merges`): every merged model, named and wired from the config;
- ``models``, ``batches`` (:mod:`.evaluated`): every evaluated model and the evaluation jobs;
- the typed params of every job (:mod:`.jobs`; the paradigms' in :mod:`mmgrid.paradigms`).

``rules/common.smk`` is a thin adapter over one ``Study``; ``mmgrid check-config``
(:mod:`.check_config`) and ``mmgrid estimate`` build the same object.
"""

from mmgrid.study.study import Study

__all__ = ["Study"]
