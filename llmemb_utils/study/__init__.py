"""The study behind notebook 05 and ``llmemb study``: the grid of runs (:mod:`.plan`), all
trained with the one ``srs`` budget of the config (:mod:`.runs`), independent runs in parallel
worker processes (:mod:`.scheduling`)."""

from .plan import RunSpec, TableKey, grid_overrides, plan, spec_config, table_key
from .runs import run_study, train_run

__all__ = ["RunSpec", "TableKey", "grid_overrides", "plan", "run_study", "spec_config", "table_key",
           "train_run"]
