"""Semantic checks of a config that the JSON schema cannot express; each message names the key.

Every check takes the validated config's datasets and experiments and returns a list of
messages (empty when all is well), so :func:`dlwf.plan.load` reports every problem at once.
"""

from __future__ import annotations

from .config import load_schema
from .experiments import RESERVED_IDS, Dataset, Experiment
from .layout import EPISODES

IMAGE_NPY_FILES = ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"]
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
# The builder an experiment may use, by the family of its dataset (tables, images) and its mode.
BUILDERS_FOR = {"table": {"dense"}, "images": {"cnn"}}
TRANSFER_BUILDERS = {"transfer_head"}
# The dataset keys each kind reads (besides kind, description, enabled, notebook); any other is refused.
KIND_KEYS = {
    "table": {"files", "split", "target", "task", "features", "categorical", "missing", "id_column", "separator"},
    "weather": {"files", "split", "target", "views"},
    "images": {"files", "class_names", "format", "subset"},
    "image_folder": {"files", "path", "split", "image_size", "skip_unreadable", "class_names"},
}
COMMON_KEYS = {"kind", "description", "enabled", "notebook"}


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


def dataset_keys(raw: dict, datasets: dict[str, Dataset]) -> list[str]:
    """Each dataset uses only the keys of its kind (a `views` on a table is a mistake, not ignored).

    ``raw`` is the config as written (before the schema's defaults are filled in)."""
    problems = []
    for name, dataset in datasets.items():
        given = set(raw["datasets"].get(name) or {})
        for key in sorted(given - COMMON_KEYS - KIND_KEYS[dataset.kind]):
            problems.append(
                f"config key datasets.{name}.{key}: not used by datasets of kind {dataset.kind!r}; "
                f"their keys: {sorted(KIND_KEYS[dataset.kind] | COMMON_KEYS)}"
            )
    return problems


def dataset_files(datasets: dict[str, Dataset]) -> list[str]:
    """File names are unique per dataset; image datasets have the files their format needs."""
    problems = []
    for name, dataset in datasets.items():
        names = [f["name"] for f in dataset.spec.get("files", [])]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"config key datasets.{name}.files: file name(s) {duplicates} given more than once")
        if dataset.kind in ("table", "weather") and len(names) != 1:
            problems.append(f"config key datasets.{name}.files: a {dataset.kind} dataset is one file, got {names}")
        archive = len(names) == 1 and names[0].lower().endswith(ARCHIVE_SUFFIXES)
        if dataset.kind == "image_folder" and names and not archive:
            problems.append(
                f"config key datasets.{name}.files: an image folder comes as one archive "
                f"({', '.join(ARCHIVE_SUFFIXES)}), got {names}; or give a local folder as `path`"
            )
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
    """sweep, tuner and base_model are for image datasets (a grid is for any); a tuner searches its
    own grid, so it goes with neither a grid nor a frozen base."""
    problems = []
    for exp in _configured(experiments):
        if exp.grid_of:
            continue  # a point is checked as the grid's block
        given = [key for key in ("sweep", "tuner", "base_model") if getattr(exp, key) is not None]
        for key in given:
            if exp.kind not in ("images", "image_folder"):
                what = "can use a pretrained base" if key == "base_model" else f"support {key}"
                problems.append(
                    f"config key {exp.key}.{key}: only experiments on image datasets {what}; "
                    f"dataset {exp.dataset!r} is of kind {exp.kind!r}"
                )
        if exp.tuner is not None and exp.base_model is not None:
            problems.append(
                f"config key {exp.key}.tuner: a transfer experiment (base_model) trains one head on the cached "
                "features; remove one of the two (a grid over the head's settings works)"
            )
        if exp.tuner is not None and exp.grid is not None:
            problems.append(f"config key {exp.key}: set either {'sweep' if exp.sweep else 'grid'} or tuner, not both")
    return problems


def builders(experiments: dict[str, Experiment]) -> list[str]:
    """The builder fits the data: dense for tables, cnn for images, transfer_head on a frozen base."""
    problems = []
    for exp in _configured(experiments):
        family = "images" if exp.kind in ("images", "image_folder") else "table"
        allowed = TRANSFER_BUILDERS if exp.mode == "transfer" else BUILDERS_FOR[family]
        builder = exp.model["builder"]
        if allowed and builder not in allowed:
            what = "a transfer experiment (base_model)" if exp.mode == "transfer" else f"a dataset of kind {exp.kind!r}"
            problems.append(
                f"config key {exp.key}.model.builder: {builder!r} does not fit {what}; use {sorted(allowed)}"
            )
    return problems


def task_fit(experiments: dict[str, Experiment]) -> list[str]:
    """Loss, output and target encoding fit the task (a classification loss on a regression target
    trains for nothing and would exit 0); image experiments validate on the test files."""
    problems = []
    for exp in _configured(experiments):
        training, key = exp.training, f"config key {exp.key}.training"
        images = exp.kind in ("images", "image_folder")
        expected = "sparse_categorical_crossentropy" if images else (
            "categorical_crossentropy" if exp.task == "classification" else "mse"
        )
        why = {
            "sparse_categorical_crossentropy": "image labels are class indices",
            "categorical_crossentropy": "the table's classes are one-hot encoded targets",
            "mse": "the target is a number (regression)",
        }[expected]
        if training["loss"] != expected:
            problems.append(f"{key}.loss: {why}; use {expected} (or leave loss out: it defaults by task)")
        activation = exp.model["args"].get("output_activation")
        if exp.task == "classification" and not images and exp.model["builder"] == "dense":
            if training["from_logits"] == (activation == "softmax"):
                problems.append(
                    f"config key {exp.key}.model.args.output_activation: {activation!r} with training.from_logits "
                    f"{training['from_logits']}: use softmax outputs without from_logits, or no activation with "
                    "from_logits: true"
                )
        if exp.task == "regression":
            if activation not in (None, "linear") or training["from_logits"]:
                problems.append(
                    f"config key {exp.key}.model.args.output_activation: a regression's output is linear; "
                    "leave output_activation and from_logits out"
                )
            if "accuracy" in training["metrics"]:
                problems.append(f"{key}.metrics: accuracy does not apply to a regression; use rmse or mae")
        elif "rmse" in training["metrics"] or "mae" in training["metrics"]:
            problems.append(f"{key}.metrics: rmse and mae apply to regressions; use accuracy")
        if images:
            needs_test = exp.mode != "single"
            if training["validation"] not in (("test",) if needs_test else ("test", None)):
                problems.append(
                    f"{key}.validation: image datasets have train and test files only, the test files being the "
                    "validation set; use 'test'" + ("" if needs_test else " or null")
                )
    return problems


def validation_splits(datasets: dict[str, Dataset], experiments: dict[str, Experiment]) -> list[str]:
    """`validation: val` needs a validation split: the weather views have one; a table needs
    split.validation_size."""
    problems = []
    for exp in _configured(experiments):
        dataset = datasets[exp.dataset]
        needs_split = dataset.kind == "table" and not dataset.spec["split"]["validation_size"]
        if exp.training["validation"] == "val" and needs_split:
            problems.append(
                f"config key {exp.key}.training.validation: 'val' needs a validation split; set "
                f"datasets.{exp.dataset}.split.validation_size (e.g. 0.15), or validate on 'test'"
            )
    return problems


def predictions(config: dict, experiments: dict[str, Experiment]) -> list[str]:
    """Each `predict` entry names a trained experiment and inputs of its kind (a table or images)."""
    problems = []
    for entry, spec in config["predict"].items():
        key = f"config key predict.{entry}"
        exp = experiments.get(spec["experiment"])
        if exp is None:
            problems.append(f"{key}.experiment: unknown experiment {spec['experiment']!r}")
        elif exp.mode == "sweep":
            problems.append(f"{key}.experiment: {exp.id!r} is a sweep (one model per value), not one model")
        elif exp.kind == "weather":
            problems.append(f"{key}.experiment: predicting with weather experiments (next-day views) is not supported")
        elif exp.kind == "table" and "url" not in spec:
            problems.append(f"{key}: {exp.id!r} learns from a table; give the new rows as `url` (a CSV file)")
        elif exp.kind in ("images", "image_folder") and "path" not in spec:
            problems.append(f"{key}: {exp.id!r} learns from images; give the new images as `path` (a folder)")
    return problems


def _args_schema(builder: str) -> dict:
    schema = load_schema()
    return {**schema["$defs"][f"{builder}_args"], "$defs": schema["$defs"]}


def searches(experiments: dict[str, Experiment]) -> list[str]:
    """A sweep varies a builder argument over valid values; a tuner searches builder arguments."""
    problems = []
    for exp in _configured(experiments):
        builder = exp.model["builder"]
        known = set(_args_schema(builder)["properties"])
        if exp.sweep is not None and not exp.grid_of:
            arg = exp.sweep["arg"]
            if arg not in known:
                problems.append(
                    f"config key {exp.key}.sweep.arg: {arg!r} is not an argument of builder {builder!r}; "
                    f"its arguments: {sorted(known)}"
                )
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
    """The experiments to check: configured ones and grid points (repeats share their block)."""
    return [exp for exp in experiments.values() if exp.repeat_of is None]


def run_all(raw: dict, config: dict, datasets: dict[str, Dataset], experiments: dict[str, Experiment]) -> list[str]:
    """Return every problem of the config (``raw``: as written; ``config``: with the schema's defaults),
    in the order of the checks above."""
    problems = references(config, datasets) + dataset_keys(raw, datasets) + dataset_files(datasets)
    problems += views(datasets, experiments) + validation_splits(datasets, experiments)
    problems += episodes(datasets, experiments)
    for check in (modes, builders, task_fit, searches, base_models):
        problems += check(experiments)
    problems += predictions(config, experiments)
    return list(dict.fromkeys(problems))  # a grid's points share its block: one message per problem
