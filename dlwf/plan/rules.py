"""What each rule reads from the plan: its input files and its params, by the job's wildcards.

The rules call these through one adapter in ``rules/common.smk`` (``plan("name")`` passes the
job's wildcards as keyword arguments, so every method accepts the wildcards it does not use in
``**_``). Params are canonical: exactly the settings that determine the rule's outputs, with the
schema's defaults filled in and keys sorted, and nothing used only in messages.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from pathlib import Path

from dlwf.core import markup
from dlwf.core.base_model import weights_path
from dlwf.core.fileio import folder_files

from . import layout, lesson
from .code import workflow_file
from .experiments import canonical


def local_file(url: str) -> list[str]:
    """[path] of an existing file named by a plain path or file:// URL (relative to the working
    directory); [] for other sources and missing files (whose fetch then fails naming them, without
    stopping the rest of the workflow)."""
    parsed = urllib.parse.urlparse(url)
    path = urllib.request.url2pathname(parsed.path) if parsed.scheme == "file" else url if not parsed.scheme else None
    return [path] if path and Path(path).is_file() else []


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

    def download_source(self, dataset: str, filename: str, **_) -> list[str]:
        """A local source file (plain path or file:// URL) as the download's input: editing it fetches it
        again and reruns what depends on it. Remote sources are no input (their md5 guards them)."""
        return local_file(self.download_url(dataset, filename))

    def _pick(self, dataset: str, keys, block: str | None = None) -> dict:
        spec = self.datasets[dataset].spec
        spec = spec[block] if block else spec
        return canonical({key: spec[key] for key in keys})

    def table_settings(self, dataset: str, **_) -> dict:
        """What defines a table's prepared rows: target, task, features, categorical, missing, id, separator."""
        return self._pick(dataset, ("target", "task", "features", "categorical", "missing", "id_column", "separator"))

    def table_split(self, dataset: str, **_) -> dict:
        """test_size, validation_size and random_state of a table's split."""
        return self._pick(dataset, ("test_size", "validation_size", "random_state"), "split")

    def image_folder_settings(self, dataset: str, **_) -> dict:
        """What defines an image folder's prepared arrays (the files themselves are the inputs)."""
        spec = self.datasets[dataset].spec
        settings = {
            "image_size": spec["image_size"],
            "test_size": spec["split"]["test_size"],
            "random_state": spec["split"]["random_state"],
            "class_names": spec.get("class_names"),
            "skip_unreadable": spec["skip_unreadable"],
        }
        return canonical(settings)

    def weather_split(self, dataset: str, **_) -> dict:
        """The lesson's two splits of a weather view: test_size, holdout_test_size, random_state."""
        return self._pick(dataset, ("test_size", "holdout_test_size", "random_state"), "split")

    def target(self, dataset: str, **_) -> str:
        return self.datasets[dataset].spec["target"]

    def target_label(self, dataset: str, **_) -> str:
        """How a regression's figures name the target."""
        suffix = " (next day)" if self.datasets[dataset].kind == "weather" else ""
        return f"{self.target(dataset)}{suffix}"

    def weather_view(self, dataset: str, view: str, **_) -> dict:
        """What defines one view file: target column, last row, feature prefixes."""
        settings = self.datasets[dataset].spec["views"][view]
        return canonical(
            {
                "target": self.target(dataset),
                "last_row": settings["last_row"],
                "feature_prefixes": settings["feature_prefixes"],
            }
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

    def sweep_arg(self, experiment: str, **_) -> str:
        return self.experiments[experiment].sweep["arg"]

    def grid_results(self, experiment: str, **_) -> dict[str, list[str]]:
        """Every point's metrics.json and history.csv, in the grid's order."""
        points = [layout.experiment_dir(p) for p in self.grid_points(experiment)]
        return {"metrics": [f"{p}/metrics.json" for p in points], "histories": [f"{p}/history.csv" for p in points]}

    def grid_points_table(self, experiment: str, **_) -> dict:
        """The grid's setting paths and its points [name, [value per path]], in the grid's order: what
        grid.csv lists before each point's results."""
        points = self.grid_points(experiment)
        paths = list(points[0].point) if points else []
        rows = [[p.id.split("/", 1)[1], [p.point[path] for path in paths]] for p in points]
        return canonical({"paths": paths, "points": rows})

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
        shown = set(self.metrics_files())
        return markup.for_params(
            {
                e.id: {
                    "description": e.description,
                    "repeat_of": e.repeat_of,
                    "lesson": lesson.reference(e.repeat_of or e.id, self.datasets[e.dataset].files),
                }
                for e in self.experiments.values()
                if f"{layout.experiment_dir(e)}/metrics.json" in shown
            }
        )

    def leaderboard_missing(self, **_) -> dict[str, dict]:
        """{dataset: {'files': raw files that could not be fetched, 'experiments': ids}} of the
        unavailable datasets: the leaderboard lists them as missing."""
        return {
            dataset: {"files": files, "experiments": [e.id for e in self.enabled_experiments(dataset)]}
            for dataset, files in self.unavailable_datasets().items()
        }

    def report_notebook(self, dataset: str | None = None, episode: str | None = None, **_) -> str:
        """notebooks/<notebook>.ipynb of the dataset (of an episode's dataset): its `notebook`, else
        its kind's; relative to the working directory."""
        dataset = self.episode_dataset(episode) if episode is not None else dataset
        spec = self.datasets[dataset]
        name = spec.spec["notebook"] or layout.NOTEBOOK_OF_KIND[spec.kind]
        return workflow_file(f"notebooks/{name}.ipynb")

    # ------------------------------------------------------------------ predictions and model cards

    def _entry(self, entry: str) -> dict:
        return self.config["predict"][entry]

    def prediction_url(self, entry: str, **_) -> str:
        return self._entry(entry)["url"]

    def prediction_md5(self, entry: str, **_) -> str | None:
        return self._entry(entry)["md5"]

    def prediction_source(self, entry: str, **_) -> list[str]:
        """A local `url` of a `predict` entry as an input: a changed file reruns the prediction."""
        return local_file(self.prediction_url(entry))

    def prediction_input_name(self, entry: str) -> str:
        """The file name of a fetched `url` input: the URL's own, if it is a plain file name."""
        name = Path(urllib.parse.urlparse(self._entry(entry)["url"]).path).name
        return name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) else "input.csv"

    def prediction_inputs(self, entry: str, **_) -> dict[str, list[str]]:
        """The new inputs of a `predict` entry: the fetched CSV, or every file of the image folder."""
        spec = self._entry(entry)
        if "url" in spec:
            return {"new": [layout.prediction_input(entry, self.prediction_input_name(entry))]}
        return {"new": folder_files(spec["path"])}

    def prediction_data(self, entry: str, **_) -> dict[str, str]:
        """What the model was trained on that predicting needs: columns.json, or classes.json."""
        exp = self.experiments[self._entry(entry)["experiment"]]
        if exp.kind in ("images", "image_folder"):
            return {"classes": layout.prepared_images(exp.dataset)["classes"]}
        return {"columns": layout.split_files(exp)["columns"]}
