"""Semantic checks of a config that the JSON schema cannot express; each message names the key.

Every check takes the validated config's datasets and experiments and returns a list of
messages (empty when all is well), so :func:`dlwf.plan.load` reports every problem at once.
"""

from __future__ import annotations

import jsonschema

from .config import load_schema
from .experiments import RESERVED_IDS, Dataset, Experiment
from .layout import EPISODES

IMAGE_NPY_FILES = ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"]
# The builder an experiment may use, by the kind of its dataset and its mode.
BUILDERS_FOR = {"penguins": {"dense"}, "weather": {"dense"}, "images": {"cnn"}}
TRANSFER_BUILDERS = {"transfer_head"}


def references(config: dict, datasets: dict[str, Dataset]) -> list[str]:
    """Experiments name a defined dataset and do not use an id the workflow reserves."""
    problems = []
    for name, spec in config["experiments"].items():
        if spec["dataset"] not in datasets:
            problems.append(
                f"config key experiments.{name}.dataset: unknown dataset {spec['dataset']!r}; "
                f"defined datasets: {sorted(datasets)}"
            )
        if name in RESERVED_IDS:
            problems.append(
                f"config key experiments.{name}: {name!r} is reserved for workflow files; choose another experiment id"
            )
    return problems


def dataset_files(datasets: dict[str, Dataset]) -> list[str]:
    """File names are unique per dataset; image datasets have the files their format needs."""
    problems = []
    for name, dataset in datasets.items():
        names = [f["name"] for f in dataset.files]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"config key datasets.{name}.files: file name(s) {duplicates} given more than once")
        if dataset.kind != "images":
            continue
        if dataset.spec["format"] == "npy" and sorted(names) != sorted(IMAGE_NPY_FILES):
            problems.append(
                f"config key datasets.{name}.files: format 'npy' needs exactly the files {IMAGE_NPY_FILES}, got {names}"
            )
        if dataset.spec["format"] == "cifar10_python" and len(names) != 1:
            problems.append(
                f"config key datasets.{name}.files: format 'cifar10_python' needs one file "
                f"(cifar-10-python.tar.gz), got {names}"
            )
    return problems


def views(datasets: dict[str, Dataset], experiments: dict[str, Experiment]) -> list[str]:
    """Weather experiments name one of their dataset's views; no other experiment has a view."""
    problems = []
    for exp in _configured(experiments):
        dataset = datasets[exp.dataset]
        if dataset.kind != "weather":
            if exp.view is not None:
                problems.append(
                    f"config key {exp.key}.view: only experiments on weather datasets have a view; dataset "
                    f"{exp.dataset!r} is of kind {dataset.kind!r}"
                )
        elif exp.view not in dataset.spec["views"]:
            problem = f"unknown view {exp.view!r}" if exp.view else "required here"
            problems.append(
                f"config key {exp.key}.view: {problem}; views of dataset {exp.dataset!r}: "
                f"{sorted(dataset.spec['views'])}"
            )
    return problems


def modes(experiments: dict[str, Experiment]) -> list[str]:
    """sweep, tuner and base_model: only on image datasets, and one of them per experiment."""
    problems = []
    for exp in _configured(experiments):
        given = [key for key in ("sweep", "tuner", "base_model") if getattr(exp, key) is not None]
        for key in given:
            if exp.kind != "images":
                what = "can use a pretrained base" if key == "base_model" else f"support {key}"
                problems.append(
                    f"config key {exp.key}.{key}: only experiments on datasets of kind 'images' {what}; "
                    f"dataset {exp.dataset!r} is of kind {exp.kind!r}"
                )
        if len(given) > 1:
            if "base_model" in given:
                search = next(key for key in given if key != "base_model")
                problems.append(
                    f"config key {exp.key}.{search}: a transfer experiment (base_model) trains one head on the "
                    "cached features; remove one of the two"
                )
            else:
                problems.append(f"config key {exp.key}: set either sweep or tuner, not both")
    return problems


def builders(experiments: dict[str, Experiment]) -> list[str]:
    """The builder fits the data: dense for tables, cnn for images, transfer_head on a frozen base."""
    problems = []
    for exp in _configured(experiments):
        allowed = TRANSFER_BUILDERS if exp.mode == "transfer" else BUILDERS_FOR.get(exp.kind, set())
        builder = exp.model["builder"]
        if allowed and builder not in allowed:
            what = "a transfer experiment (base_model)" if exp.mode == "transfer" else f"a dataset of kind {exp.kind!r}"
            problems.append(
                f"config key {exp.key}.model.builder: {builder!r} does not fit {what}; use {sorted(allowed)}"
            )
    return problems


def image_training(experiments: dict[str, Experiment]) -> list[str]:
    """Image labels are class indices, and the test files are the validation set."""
    problems = []
    for exp in _configured(experiments):
        if exp.kind != "images":
            continue
        training = exp.training
        if training["loss"] != "sparse_categorical_crossentropy":
            problems.append(
                f"config key {exp.key}.training.loss: image labels are class indices; use "
                "sparse_categorical_crossentropy"
            )
        needs_test = exp.mode != "single"
        if training["validation"] not in (("test",) if needs_test else ("test", None)):
            problems.append(
                f"config key {exp.key}.training.validation: image datasets have train and test files only, the "
                "test files being the validation set; use 'test'" + ("" if needs_test else " or null")
            )
    return problems


def _args_schema(builder: str) -> dict:
    schema = load_schema()
    return {**schema["$defs"][f"{builder}_args"], "$defs": schema["$defs"]}


def _arg_problems(builder: str, args: dict, key: str, what: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(_args_schema(builder))
    problems = []
    for error in validator.iter_errors(args):
        name = ".".join(map(str, error.absolute_path))
        problems.append(f"config key {key}: {what}: model.args.{name or '?'}: {error.message}")
    return problems


def searches(experiments: dict[str, Experiment]) -> list[str]:
    """A sweep varies a builder argument over valid values; a tuner searches builder arguments."""
    problems = []
    for exp in _configured(experiments):
        builder = exp.model["builder"]
        known = set(_args_schema(builder)["properties"])
        if exp.sweep is not None:
            arg = exp.sweep["arg"]
            if arg not in known:
                problems.append(
                    f"config key {exp.key}.sweep.arg: {arg!r} is not an argument of builder {builder!r}; "
                    f"its arguments: {sorted(known)}"
                )
            else:
                for value in exp.sweep["values"]:
                    args = {**exp.model["args"], arg: value}
                    problems += _arg_problems(builder, args, f"{exp.key}.sweep.values", f"value {value!r}")
        if exp.tuner is not None:
            for name, space in exp.tuner["hyperparameters"].items():
                where = f"config key {exp.key}.tuner.hyperparameters.{name}"
                if name not in known:
                    problems.append(
                        f"{where}: {name!r} is not an argument of builder {builder!r}; its arguments: {sorted(known)}"
                    )
                if space["type"] == "choice":
                    continue
                if space["type"] == "int" and any(float(space[k]) != int(space[k]) for k in ("min", "max", "step")):
                    problems.append(f"{where}: type int needs integer min, max and step")
                if space["min"] > space["max"]:
                    problems.append(f"{where}: min {space['min']} is larger than max {space['max']}")
    return problems


def base_models(experiments: dict[str, Experiment]) -> list[str]:
    """weights_include_top applies to a local weights file only."""
    problems = []
    for exp in _configured(experiments):
        base = exp.base_model
        if base is not None and base["weights_include_top"] and base["weights"] in (None, "imagenet"):
            problems.append(
                f"config key {exp.key}.base_model.weights_include_top: applies to a local weights file only, "
                f"but weights is {base['weights']!r}"
            )
    return problems


def episodes(datasets: dict[str, Dataset], experiments: dict[str, Experiment]) -> list[str]:
    """An episode's report shows one dataset; report pages of datasets and episodes do not collide."""
    problems = []
    for name in datasets:
        if name in EPISODES:
            problems.append(
                f"config key datasets.{name}: {name!r} is the name of an episode's report "
                f"(reports/{name}.html); choose another dataset id"
            )
    by_episode: dict[int, set[str]] = {}
    for exp in _configured(experiments):
        if exp.episode is not None and exp.enabled and datasets[exp.dataset].enabled:
            by_episode.setdefault(exp.episode, set()).add(exp.dataset)
    for episode, used in sorted(by_episode.items()):
        if len(used) > 1:
            problems.append(
                f"config key experiments.*.episode: the enabled experiments of episode {episode} run on "
                f"datasets {sorted(used)}; its report (reports/episode{episode}.html) shows one dataset: "
                "disable or move the others, or set their episode to null"
            )
    return problems


def _configured(experiments: dict[str, Experiment]):
    """The configured experiments (repeats share their block, so they are checked once)."""
    return [exp for exp in experiments.values() if exp.repeat_of is None]


def run_all(config: dict, datasets: dict[str, Dataset], experiments: dict[str, Experiment]) -> list[str]:
    """Return every problem of the config, in the order of the checks above."""
    problems = references(config, datasets) + dataset_files(datasets) + views(datasets, experiments)
    problems += episodes(datasets, experiments)
    for check in (modes, builders, image_training, searches, base_models):
        problems += check(experiments)
    return problems
