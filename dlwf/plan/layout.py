"""Where every file of the workflow lives, and which files make up each dataset's results.

Paths are relative to the directory Snakemake runs in. The rules' output patterns use the same
names (``results/{dataset}/{experiment}/model.keras`` ...); a dry run of the default config
checks that every target listed here is made by some rule.

    resources/{dataset}/{file}                    downloaded files (+ .provenance.json, .lock.json,
                                                  .failed.json while the last download failed)
    results/{dataset}/...                         prepared data, splits, exploration figures
    results/{dataset}/{experiment}/...            one experiment's model, history, metrics, figures,
                                                  model card, predictions/<entry>.csv on new data
    results/leaderboard.csv, .html                every experiment in one table
    reports/{dataset}.html, .ipynb                the dataset's report
    reports/{episode}.html, .ipynb                one lesson episode's report (target rules episode2 ...)
    logs/..., benchmarks/...                      one log and one benchmark file per job

A training job keeps its backup (to resume after a kill, :mod:`dlwf.nn.resume`) in
``results/{dataset}/{experiment}/.backup/`` (:func:`backup_dir`; the feature pass in
``results/{dataset}/features/{base}/.backup/``): never a rule output, so Snakemake does not delete
it with a killed job's outputs; the job removes it when it completes.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from dlwf.core import fileio
from dlwf.core.base_model import base_id

from .experiments import Experiment

RESOURCES = "resources"
RESULTS = "results"
REPORTS = "reports"
LEADERBOARD = [f"{RESULTS}/leaderboard.csv", f"{RESULTS}/leaderboard.html"]
# the lesson's episodes with results (target rules of the same names; config key experiments.X.episode)
EPISODES = ["episode2", "episode3", "episode4", "episode5"]

MODEL_FILES = ["model.keras", "history.csv", "metrics.json", "predictions.csv", "training_curves.png", "model_card.md"]
CLASSIFIER_FILES = MODEL_FILES + ["confusion_matrix.csv", "confusion_matrix.png"]
REGRESSOR_FILES = MODEL_FILES + ["predicted_vs_true_train.png", "predicted_vs_true_test.png"]
GRID_FILES = ["grid.csv", "grid.png"]
SWEEP_FILES = ["sweep.csv", "sweep_val_loss.png", "sweep_curves.png", "metrics.json"]
TUNER_FILES = ["trials.csv", "trials_history.csv"]
REPEAT_FILES = ["repeats.csv", "repeats.json"]
IMAGE_NPY_FILES = ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"]
FEATURE_FILES = {"extractor": "extractor.keras", "train": "train.npy", "test": "test.npy", "base": "base.json"}
# the report notebook (notebooks/<name>.ipynb) of each kind, unless a dataset names its own
NOTEBOOK_OF_KIND = {"table": "table", "weather": "weather", "images": "images", "image_folder": "images"}
# what a dataset report's notebook reads of an experiment's own directory
REPORT_FILE_TYPES = (".png", ".csv", ".json")


def raw_file(dataset: str, name: str) -> str:
    """The downloaded copy of one of a dataset's files."""
    return f"{RESOURCES}/{dataset}/{name}"


def provenance_file(dataset: str, name: str) -> str:
    """Where the download rule records a file's source and md5."""
    return f"{raw_file(dataset, name)}.provenance.json"


def failure_marker(dataset: str, name: str) -> str:
    """Written by the download step when a fetch fails and removed when one succeeds; not a rule
    output (Snakemake leaves it alone). With the file absent, it tells the next run that the
    dataset is unavailable (see :meth:`dlwf.plan.Plan.unavailable_datasets`)."""
    return f"{raw_file(dataset, name)}.failed.json"


def experiment_dir(exp: Experiment) -> str:
    return f"{RESULTS}/{exp.dataset}/{exp.id}"


def split_dir(exp: Experiment) -> str:
    """The split an experiment trains on; weather experiments use their view's split."""
    base = f"{RESULTS}/{exp.dataset}/split"
    return f"{base}/{exp.view}" if exp.view else base


def split_files(exp: Experiment) -> dict[str, str]:
    """train/test/columns of the experiment's split, plus 'validation' when it trains with one."""
    d = split_dir(exp)
    files = {"train": f"{d}/train.csv", "test": f"{d}/test.csv", "columns": f"{d}/columns.json"}
    validation = exp.training["validation"]
    if validation:
        files["validation"] = f"{d}/{validation}.csv"
    return files


def view_file(dataset: str, view: str) -> str:
    return f"{RESULTS}/{dataset}/views/{view}.csv"


def prepared_images(dataset: str) -> dict[str, str]:
    """The prepared arrays (train_images, ...) and classes.json of an image dataset."""
    d = f"{RESULTS}/{dataset}/prepared"
    files = {PurePosixPath(n).stem: f"{d}/{n}" for n in IMAGE_NPY_FILES}
    files["classes"] = f"{d}/classes.json"
    return files


def transfer_base_id(exp: Experiment) -> str:
    """'<name>_<hash of base_model>': experiments with the same base share its features."""
    return base_id(exp.base_model)


def features_dir(dataset: str, base: str) -> str:
    return f"{RESULTS}/{dataset}/features/{base}"


def features(exp: Experiment) -> dict[str, str]:
    """The cached features (extractor, train, test, base) a transfer experiment's head trains on."""
    d = features_dir(exp.dataset, transfer_base_id(exp))
    return {key: f"{d}/{name}" for key, name in FEATURE_FILES.items()}


def backup_dir(dataset: str, experiment: str) -> str:
    """Where a training job backs up its progress (not an output; removed when the job completes).
    The scripts find it next to their outputs (:func:`dlwf.core.fileio.backup_dir`)."""
    return fileio.backup_dir(f"{RESULTS}/{dataset}/{experiment}")


def features_backup_dir(dataset: str, base: str) -> str:
    """Where the feature pass of a base backs up the features computed so far."""
    return fileio.backup_dir(features_dir(dataset, base))


def benchmark_file(exp: Experiment, step: str) -> str:
    return f"benchmarks/{exp.dataset}/{exp.id}/{step}.tsv"


def features_benchmark(exp: Experiment) -> str:
    return f"benchmarks/{exp.dataset}/features/{transfer_base_id(exp)}.tsv"


def experiment_outputs(exp: Experiment) -> list[str]:
    """Every final file of one experiment, by its task, its dataset's kind and its mode."""
    d = experiment_dir(exp)
    if exp.mode == "grid":  # its points are experiments of their own
        names = GRID_FILES + (SWEEP_FILES if exp.sweep else [])
    else:
        names = REGRESSOR_FILES if exp.task == "regression" else CLASSIFIER_FILES
        names = names + (TUNER_FILES if exp.mode == "tuner" else [])
        if exp.training["tensorboard"]:  # every kind: tables, images, tuner (a subdirectory per trial), heads
            names = names + ["tensorboard"]
    outputs = [f"{d}/{n}" for n in names]
    if exp.mode == "transfer":
        outputs += [f"{d}/head.keras"] + [p for k, p in features(exp).items() if k != "extractor"]
    if exp.repeats > 1:
        outputs += [f"{d}/{n}" for n in REPEAT_FILES]
    return outputs


def dataset_files(dataset) -> list[str]:
    """The dataset-level final files (exploration figures, prepared data) of a Dataset, by kind."""
    d = f"{RESULTS}/{dataset.id}"
    if dataset.kind == "table":
        return [f"{d}/prepared.json", f"{d}/exploration/pairplot.png"]
    if dataset.kind in ("images", "image_folder"):
        return [prepared_images(dataset.id)["classes"], f"{d}/exploration/sample_images.png"]
    return []


def prediction_file(exp: Experiment, entry: str) -> str:
    """The predictions of an experiment's model on the new inputs of a `predict` entry."""
    return f"{experiment_dir(exp)}/predictions/{entry}.csv"


def prediction_input(entry: str, name: str) -> str:
    """The fetched copy of a `predict` entry's `url` (verified like a dataset file)."""
    return f"{RESOURCES}/predict/{entry}/{name}"


def report_files(page: str) -> list[str]:
    """The page and its executed notebook of a dataset's report (or of an episode's)."""
    return [f"{REPORTS}/{page}.html", f"{REPORTS}/{page}.ipynb"]


def own_files(exp: Experiment) -> dict[str, str]:
    """{file name: path} of the experiment's own files (in its directory) that a report reads."""
    prefix = experiment_dir(exp) + "/"
    return {
        PurePosixPath(p).name: p
        for p in experiment_outputs(exp)
        if p.startswith(prefix) and "/" not in p[len(prefix) :] and p.endswith(REPORT_FILE_TYPES)
    }


def alternatives(names) -> str:
    """A regular expression matching exactly one of ``names`` (nothing when there is none), as a
    trie: `(?:dense(?:10(?:_normalized)?|_...))`, so that matching costs the length of a name, not
    the number of names (wildcard constraints of configs with hundreds of experiments)."""
    import re

    trie: dict = {}
    for name in sorted(set(names)):
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return "(?!)"

    def pattern(node: dict) -> str:
        branches = [re.escape(char) + pattern(child) if char else "" for char, child in sorted(node.items())]
        if len(branches) == 1:
            return branches[0]
        optional = "" in branches
        alternatives = [b for b in branches if b]
        body = "|".join(alternatives)
        group = f"(?:{body})" if len(alternatives) > 1 or optional else body
        return group + ("?" if optional else "")

    return pattern(trie)
