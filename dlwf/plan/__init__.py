"""The experiment plan: what the workflow builds from a config, without Snakemake or TensorFlow.

    plan = dlwf.plan.load(config)      # validates, fills defaults, checks; raises PlanError
    plan.experiments["dense10"].settings()
    plan.targets()                     # what `snakemake` builds by default
    plan.episode_targets("episode2")   # what target rule episode2 builds

``rules/common.smk`` builds the plan once and reads everything from it: wildcard constraints,
input files, params (each experiment's canonical :meth:`~dlwf.plan.experiments.Experiment.settings`),
default targets and report parameters. Tests use the same object without Snakemake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlwf.core import markup
from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import folder_files

from . import checks, layout, lesson
from .config import config_file_problems, validate
from .experiments import Dataset, Experiment, canonical, make_datasets, make_experiments
from .rules import RuleInputs

__all__ = ["Plan", "PlanError", "load", "canonical", "Dataset", "Experiment"]


class PlanError(WorkflowInputError):
    """The config is invalid; ``problems`` holds one message per problem, each naming its key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(
            "Invalid configuration (config/config.yaml and any --configfile/--config):\n  - "
            + "\n  - ".join(self.problems)
        )


@dataclass(frozen=True)
class Plan(RuleInputs):
    """Datasets, experiments (repeats expanded) and every path the workflow reads or writes.

    The methods the rules call with a job's wildcards are in :class:`dlwf.plan.rules.RuleInputs`.
    """

    config: dict = field(repr=False)
    datasets: dict[str, Dataset]
    experiments: dict[str, Experiment]
    _memo: dict = field(default_factory=dict, repr=False, compare=False)  # results computed once per plan

    # ------------------------------------------------------------------ selections

    def enabled_experiments(self, dataset: str) -> list[Experiment]:
        """The enabled experiments of an enabled ``dataset`` (what its report and targets show)."""
        if not self.datasets[dataset].enabled:
            return []
        return [e for e in self.experiments.values() if e.dataset == dataset and e.enabled]

    def experiment_ids(self, kinds=None, modes=None, tensorboard=None, tasks=None) -> list[str]:
        """Ids of the experiments of the given dataset kinds, modes and tasks (all when None)."""
        return [
            e.id
            for e in self.experiments.values()
            if (kinds is None or e.kind in kinds)
            and (modes is None or e.mode in modes)
            and (tasks is None or e.task in tasks)
            and (tensorboard is None or e.training["tensorboard"] == tensorboard)
        ]

    def prediction_entries(self) -> list[str]:
        return sorted(self.config["predict"])

    def dataset_ids(self, kinds=None) -> list[str]:
        return [d for d, spec in self.datasets.items() if kinds is None or spec.kind in kinds]

    def file_names(self) -> list[str]:
        """The names of every file the workflow fetches: datasets' files and `predict` inputs."""
        names = {f["name"] for d in self.datasets.values() for f in d.files}
        names |= {self.prediction_input_name(e) for e, spec in self.config["predict"].items() if "url" in spec}
        return sorted(names)

    def table_ids(self, validation: bool) -> list[str]:
        """The table datasets with (or without) a validation split (split.validation_size > 0)."""
        tables = self.dataset_ids(["table"])
        return [d for d in tables if bool(self.datasets[d].spec["split"]["validation_size"]) == validation]

    def view_ids(self) -> list[str]:
        """Every view id of the weather datasets."""
        return sorted({v for d in self.dataset_ids(["weather"]) for v in self.datasets[d].spec["views"]})

    def sweep_ids(self) -> list[str]:
        """Ids of the grids that are the lesson's sweeps (they also get its table and plot)."""
        return [e.id for e in self.experiments.values() if e.mode == "grid" and e.sweep]

    def grid_points(self, experiment: str) -> list[Experiment]:
        """The points of a grid experiment, in the grid's order."""
        return sorted((e for e in self.experiments.values() if e.grid_of == experiment), key=lambda e: e.grid_index)

    def base_ids(self) -> list[str]:
        return sorted({layout.transfer_base_id(e) for e in self.experiments.values() if e.mode == "transfer"})

    def base_model(self, dataset: str, base: str) -> dict:
        """The base_model block behind ``results/<dataset>/features/<base>/`` (defaults filled in)."""
        for exp in self.experiments.values():
            if exp.dataset == dataset and exp.mode == "transfer" and layout.transfer_base_id(exp) == base:
                return exp.base_model
        raise WorkflowInputError(
            f"{layout.features_dir(dataset, base)}: no transfer experiment on dataset {dataset!r} has this base model"
        )

    def repeat_ids(self, experiment: str) -> list[str]:
        """The ids of every run of ``experiment`` (itself first) when it has repeats."""
        return [experiment] + [e.id for e in self.experiments.values() if e.repeat_of == experiment]

    # ------------------------------------------------------------------ files

    def raw_files(self, dataset: str, **_) -> list[str]:
        """The dataset's data files: its downloaded files, or every file of its local image folder."""
        spec = self.datasets[dataset].spec
        if "path" in spec:
            return folder_files(spec["path"])
        return [layout.raw_file(dataset, f["name"]) for f in spec["files"]]

    def dataset_outputs(self, dataset: str) -> list[str]:
        """Every final file of one dataset: its own files and those of its enabled experiments."""
        outputs = layout.dataset_files(self.datasets[dataset])
        for exp in self.enabled_experiments(dataset):
            outputs += layout.experiment_outputs(exp)
        return outputs

    def prediction_outputs(self) -> list[str]:
        """predictions/<entry>.csv of every `predict` entry whose experiment is enabled."""
        outputs = []
        for entry, spec in self.config["predict"].items():
            exp = self.experiments[spec["experiment"]]
            if exp.enabled and self.datasets[exp.dataset].enabled:
                outputs.append(layout.prediction_file(exp, entry))
        return outputs

    def metrics_files(self) -> list[str]:
        """metrics.json of every trained run of every enabled, available dataset (the leaderboard's
        rows): each grid point has its row (a sweep's own metrics.json, its best point, is not
        repeated); the experiments of unavailable datasets are listed as missing."""
        unavailable = self.unavailable_datasets()
        grids = {layout.experiment_dir(e) for e in self.experiments.values() if e.mode == "grid"}
        return [
            p
            for d in self.datasets
            if d not in unavailable
            for p in self.dataset_outputs(d)
            if Path(p).name == "metrics.json" and str(Path(p).parent) not in grids
        ]

    def targets(self) -> list[str]:
        """What `snakemake` builds by default: enabled datasets, their reports and the leaderboard.

        Of an unavailable dataset only its raw files are targets: every run tries the download
        again, and the run after a successful one builds the rest (see :meth:`unavailable_datasets`).
        The files a report or the leaderboard reads are built for them, so they are not listed again
        (the jobs are the same; a 500-experiment config plans faster with a third fewer targets).
        """
        unavailable = self.unavailable_datasets()
        outputs = []
        for dataset in self.datasets.values():
            if not dataset.enabled:
                continue
            if dataset.id in unavailable:
                outputs += self.raw_files(dataset.id)
            else:
                read = set(self.report_inputs(dataset.id))
                outputs += [p for p in self.dataset_outputs(dataset.id) if p not in read]
                outputs += layout.report_files(dataset.id)
        return outputs + self.prediction_outputs() + layout.LEADERBOARD

    def missing_raw_files(self) -> list[tuple[str, str]]:
        """(dataset, path) of every raw file of an enabled dataset that is not on disk."""
        return [
            (d, path)
            for d, spec in self.datasets.items()
            if spec.enabled and spec.files
            for path in self.raw_files(d)
            if not Path(path).exists()
        ]

    def unavailable_datasets(self) -> dict[str, list[str]]:
        """{dataset: its missing raw files} of the enabled datasets whose data could not be fetched.

        A dataset is unavailable when a raw file is absent AND its last download failed (the
        download step leaves ``<file>.failed.json``, see :func:`layout.failure_marker`). Decided
        when the workflow is parsed: a run that cannot fetch a file fails (``--keep-going`` goes
        on with the rest); the next run leaves that dataset's results out of the leaderboard and
        of ``rule all`` and builds them from what finished, listing the dataset as missing. A file
        that was never tried (a fresh checkout) or that someone deleted is simply fetched again.
        """
        unavailable = {}
        for d, spec in self.datasets.items():
            if not spec.enabled:
                continue
            failed = [
                layout.raw_file(d, f["name"])
                for f in spec.files
                if not Path(layout.raw_file(d, f["name"])).exists()
                and Path(layout.failure_marker(d, f["name"])).exists()
            ]
            if failed:
                unavailable[d] = failed
        return unavailable

    # ------------------------------------------------------------------ episodes of the lesson

    def episodes(self) -> dict[str, list[Experiment]]:
        """{'episode<N>': its enabled experiments on enabled datasets}, by the experiments' ``episode``."""
        episodes: dict[str, list[Experiment]] = {}
        for exp in self.experiments.values():
            if exp.episode is not None and exp.enabled and self.datasets[exp.dataset].enabled:
                episodes.setdefault(f"episode{exp.episode}", []).append(exp)
        return dict(sorted(episodes.items()))

    def episode_dataset(self, episode: str) -> str:
        """The dataset an episode's experiments run on (checked to be one when the plan is made)."""
        return self.episodes()[episode][0].dataset

    def episode_targets(self, episode: str) -> list[str]:
        """An episode's results (its experiments' files, its dataset's exploration figures) and its
        report page; nothing when no enabled experiment belongs to it."""
        experiments = self.episodes().get(episode, [])
        if not experiments:
            return []
        dataset = self.datasets[experiments[0].dataset]
        outputs = layout.dataset_files(dataset)
        for exp in experiments:
            outputs += layout.experiment_outputs(exp)
        return outputs + layout.report_files(episode)

    def lesson_targets(self) -> list[str]:
        """Every episode's results and report, and the leaderboard."""
        return [p for e in layout.EPISODES for p in self.episode_targets(e)] + layout.LEADERBOARD

    # ------------------------------------------------------------------ reports

    def report_parameters(self, dataset: str | None = None, episode: str | None = None, **_) -> dict:
        """The papermill parameters of a dataset's report page (or an episode's): descriptions
        (escaped for params, see :mod:`dlwf.core.markup`), the lesson's numbers and the files the
        notebook reads. Computed once per page (every job's params and inputs ask for them)."""
        key = (dataset, episode)
        if key not in self._memo.setdefault("report", {}):
            self._memo["report"][key] = self._report_parameters(dataset, episode)
        return self._memo["report"][key]

    def _report_parameters(self, dataset: str | None, episode: str | None) -> dict:
        if episode is not None:
            dataset = self.episode_dataset(episode)
            shown = self.episodes()[episode]
        else:
            shown = self.enabled_experiments(dataset)
        outputs = layout.dataset_files(self.datasets[dataset])
        files = self.datasets[dataset].files
        experiments = {
            exp.id: {
                "description": exp.description,
                "mode": exp.mode,
                "view": exp.view,
                "repeat_of": exp.repeat_of,
                "grid_of": exp.grid_of,
                "lesson": lesson.reference(exp.repeat_of or exp.id, files),
                "files": layout.own_files(exp),
            }
            for exp in shown
        }
        views = sorted({spec["view"] for spec in experiments.values() if spec["view"]})
        exploration = f"{layout.RESULTS}/{dataset}/exploration/"
        prepared = (f"{layout.RESULTS}/{dataset}/prepared/", f"{layout.RESULTS}/{dataset}/prepared.json")
        return markup.for_params(
            {
                "dataset": dataset,
                "episode": episode or "",
                "description": self.datasets[dataset].description,
                "exploration": [p for p in outputs if p.startswith(exploration)],
                "views": {v: layout.view_file(dataset, v) for v in views},
                "data": {Path(p).stem: p for p in outputs if p.startswith(prepared) and p.endswith(".json")},
                "sources": {f["name"]: layout.provenance_file(dataset, f["name"]) for f in files},
                "experiments": experiments,
            }
        )

    def report_inputs(self, dataset: str | None = None, episode: str | None = None, **_) -> list[str]:
        """Every file the report reads: a changed result reruns the report."""
        parameters = self.report_parameters(dataset, episode)
        files = parameters["exploration"] + list(parameters["views"].values()) + list(parameters["data"].values())
        files += list(parameters["sources"].values())
        for spec in parameters["experiments"].values():
            files += list(spec["files"].values())
        return files


def load(config: dict, config_files=()) -> Plan:
    """Return the plan of a config as Snakemake read it (``config.yaml`` plus overlays).

    ``config_files`` are the files it was read from: a key written twice in one of them is refused
    (YAML would keep only the last). The config is validated against ``config/schema.yaml``
    (defaults filled in, in a copy) and checked by :mod:`dlwf.plan.checks`; every problem is
    reported at once in a PlanError.
    """
    problems = [problem for path in config_files for problem in config_file_problems(path)]
    filled, invalid = validate(config)
    problems += invalid
    if problems:
        raise PlanError(problems)
    datasets = make_datasets(filled)
    experiments, problems = make_experiments(filled, datasets)
    problems += checks.run_all(config, filled, datasets, experiments)
    if problems:
        raise PlanError(problems)
    return Plan(filled, datasets, experiments)
