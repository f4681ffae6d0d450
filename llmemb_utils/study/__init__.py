"""The study behind notebook 05 and ``llmemb study``: the grid of runs (:mod:`.plan`), all
trained with the one ``srs`` budget of the config (:mod:`.runs`), independent runs in parallel
worker processes (:mod:`.scheduling`)."""

from .plan import RunSpec, grid_overrides, plan, spec_config
from .runs import run_study, train_run

__all__ = ["RunSpec", "grid_overrides", "plan", "run_study", "spec_config", "train_run"]
