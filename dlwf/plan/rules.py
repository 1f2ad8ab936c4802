"""What each rule reads from the plan: its input files and its params, by the job's wildcards.

The rules call these through one adapter in ``rules/common.smk`` (``plan("name")`` passes the
job's wildcards as keyword arguments, so every method accepts the wildcards it does not use in
``**_``). Params are canonical: exactly the settings that determine the rule's outputs, with the
schema's defaults filled in and keys sorted, and nothing used only in messages.
"""

from __future__ import annotations

from pathlib import Path

from dlwf.core import markup
from dlwf.core.base_model import weights_path

from . import layout, lesson
from .code import workflow_file
from .experiments import canonical


class RuleInputs:
    """Mixed into :class:`dlwf.plan.Plan`; ``self.datasets`` and ``self.experiments`` come from it."""

    # ------------------------------------------------------------------ datasets

    def raw_file(self, dataset: str, **_) -> str:
        """The one downloaded file of a table dataset (penguins, weather)."""
        return self.raw_files(dataset)[0]

    def file_entry(self, dataset: str, filename: str, **_) -> dict:
        entry = self.datasets[dataset].file(filename)
        if entry is None:
            raise KeyError(f"{layout.raw_file(dataset, filename)}: no file {filename!r} in datasets.{dataset}.files")
        return entry

    def download_url(self, dataset: str, filename: str, **_) -> str:
        """The canonical URL (the download script reads a mirror copy instead when `mirror` is set)."""
        return self.file_entry(dataset, filename)["url"]

    def download_md5(self, dataset: str, filename: str, **_) -> str | None:
        return self.file_entry(dataset, filename)["md5"]

    def split_settings(self, dataset: str, **_) -> dict:
        """test_size and random_state of a penguins split."""
        split = self.datasets[dataset].spec["split"]
        return canonical({key: split[key] for key in ("test_size", "random_state")})

    def weather_split(self, dataset: str, **_) -> dict:
        """The lesson's two splits of a weather view: test_size, holdout_test_size, random_state."""
        split = self.datasets[dataset].spec["split"]
        return canonical({key: split[key] for key in ("test_size", "holdout_test_size", "random_state")})

    def target(self, dataset: str, **_) -> str:
        return self.datasets[dataset].spec["target"]

    def target_label(self, dataset: str, **_) -> str:
        return f"{self.target(dataset)} (next day)"

    def weather_view(self, dataset: str, view: str, **_) -> dict:
        """What defines one view file: target column, last row, feature prefixes."""
        settings = self.datasets[dataset].spec["views"][view]
        return canonical(
            {"target": self.target(dataset), "last_row": settings["last_row"],
             "feature_prefixes": settings["feature_prefixes"]}
        )

    def image_dataset(self, dataset: str, **_) -> dict:
        """What defines the prepared arrays: class names, raw format, subset."""
        spec = self.datasets[dataset].spec
        settings = {"class_names": spec["class_names"], "source_format": spec["format"], "subset": spec["subset"]}
        return canonical(settings)

    def prepared_images(self, dataset: str, **_) -> dict[str, str]:
        return layout.prepared_images(dataset)

    # ------------------------------------------------------------------ experiments

    def settings(self, experiment: str, **_) -> dict:
        """Everything that determines the experiment's results (see Experiment.settings)."""
        return self.experiments[experiment].settings()

    def split_files(self, experiment: str, **_) -> dict[str, str]:
        return layout.split_files(self.experiments[experiment])

    def sweep_point_settings(self, experiment: str, point: str, **_) -> dict:
        """The settings of one sweep point: its value set, the sweep block left out."""
        exp = self.experiments[experiment]
        return exp.point_settings(layout.sweep_points(exp)[point])

    def sweep_arg(self, experiment: str, **_) -> str:
        return self.experiments[experiment].sweep["arg"]

    def sweep_results(self, experiment: str, **_) -> dict[str, list[str]]:
        """Every point's evaluation and history, in the configured order of the values."""
        exp = self.experiments[experiment]
        points = [f"{layout.experiment_dir(exp)}/{p}" for p in layout.sweep_points(exp)]
        return {
            "evaluations": [f"{p}/evaluation.json" for p in points],
            "histories": [f"{p}/history.csv" for p in points],
        }

    def repeat_metrics(self, experiment: str, **_) -> list[str]:
        """metrics.json of every seed of an experiment with repeats."""
        return [f"{layout.experiment_dir(self.experiments[e])}/metrics.json" for e in self.repeat_ids(experiment)]

    # ------------------------------------------------------------------ transfer learning

    def base_settings(self, dataset: str, base: str, **_) -> dict:
        """The base_model block (defaults filled in) behind results/<dataset>/features/<base>/."""
        return canonical(self.base_model(dataset, base))

    def weights_files(self, dataset: str, base: str, **_) -> list[str]:
        """The base's local weights file (replacing it recomputes the features). A missing file is
        no input: the feature pass then fails naming the config key and the path."""
        path = weights_path(self.base_model(dataset, base))
        return [path] if path and Path(path).is_file() else []

    def head_features(self, experiment: str, **_) -> dict[str, str]:
        """The cached features a transfer head trains on (train) and is validated with (test)."""
        cached = layout.features(self.experiments[experiment])
        return {"train_features": cached["train"], "test_features": cached["test"]}

    def feature_extractor(self, experiment: str, **_) -> str:
        return layout.features(self.experiments[experiment])["extractor"]

    def transfer_evaluation_inputs(self, experiment: str, **_) -> dict[str, str]:
        """The cached test features and base.json to compare with, and the benchmark files of the
        feature pass and the head training (their seconds go to metrics.json)."""
        exp = self.experiments[experiment]
        cached = layout.features(exp)
        return {
            "test_features": cached["test"],
            "base": cached["base"],
            "features_benchmark": layout.features_benchmark(exp),
            "head_benchmark": layout.benchmark_file(exp, "train_head"),
        }

    # ------------------------------------------------------------------ reports

    def leaderboard_entries(self, **_) -> dict[str, dict]:
        """What the leaderboard shows of each of its experiments besides its metrics.json: the
        description and the lesson's number (escaped for params, see :mod:`dlwf.core.markup`)."""
        shown = {Path(p).parent.name for p in self.metrics_files()}
        return markup.for_params({
            e.id: {
                "description": e.description,
                "repeat_of": e.repeat_of,
                "lesson": lesson.reference(e.repeat_of or e.id, self.datasets[e.dataset].files),
            }
            for e in self.experiments.values()
            if e.id in shown
        })

    def leaderboard_missing(self, **_) -> dict[str, dict]:
        """{dataset: {'files': raw files that could not be fetched, 'experiments': ids}} of the
        unavailable datasets: the leaderboard lists them as missing."""
        return {
            dataset: {"files": files, "experiments": [e.id for e in self.enabled_experiments(dataset)]}
            for dataset, files in self.unavailable_datasets().items()
        }

    def report_notebook(self, dataset: str | None = None, episode: str | None = None, **_) -> str:
        """notebooks/<kind>.ipynb of the dataset (of an episode's dataset), relative to the working directory."""
        dataset = self.episode_dataset(episode) if episode is not None else dataset
        return workflow_file(f"notebooks/{self.datasets[dataset].kind}.ipynb")
