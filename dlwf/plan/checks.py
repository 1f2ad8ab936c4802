"""Semantic checks of a config that the JSON schema cannot express; each message names the key.

Every check takes the validated config's datasets and experiments and returns a list of
messages (empty when all is well), so :func:`dlwf.plan.load` reports every problem at once.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import jsonschema

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
# Output activations of a classifier's dense net that give class probabilities (from_logits false)
# or logits the loss turns into them (from_logits true); sigmoid outputs do not sum to 1.
CLASS_OUTPUTS = {False: {"softmax"}, True: {None, "linear", "log_softmax"}}
LOGIT_BUILDERS = {"cnn", "transfer_head"}  # builders whose last layer is Dense(n) without an activation
# The name Keras logs for each of training.metrics (dlwf/nn/training.py make_metric).
METRIC_LOG_NAMES = {"accuracy": "accuracy", "rmse": "rmse", "mae": "mae"}
# Widths of the ImageNet weights Keras has for each architecture with a width multiplier.
IMAGENET_ALPHAS = {"MobileNet": (0.25, 0.5, 0.75, 1.0), "MobileNetV2": (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)}
CALENDAR_COLUMNS = ("DATE", "MONTH")  # dlwf/data/weather.py NOT_FEATURES
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
RESERVED_DATASET_IDS = {"predict": "resources/predict/ holds the new inputs of `predict` entries"}
# columns the workflow writes beside an id column in predictions.csv and predictions/<entry>.csv
PREDICTION_COLUMNS = ("split", "index", "row", "file", "true", "predicted", "baseline")
BAD_SEPARATORS = {'"': "the quote character", "\n": "a line break", "\r": "a line break"}


def top_level(config: dict) -> list[str]:
    """`mirror` is a directory name, not the text of a null (what --config mirror=null gives)."""
    mirror = config["mirror"]
    if isinstance(mirror, str) and mirror.strip() in ("", "null", "None", "none", "~"):
        return [
            f"config key mirror: {mirror!r} is text, not a directory (--config mirror=null arrives as the text "
            "'null'); leave mirror out to use the URLs, or give the mirror directory"
        ]
    return []


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
    for name in datasets:
        if name in RESERVED_DATASET_IDS:
            problems.append(
                f"config key datasets.{name}: {name!r} is reserved for workflow files "
                f"({RESERVED_DATASET_IDS[name]}); choose another dataset id"
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
        expected = (
            "sparse_categorical_crossentropy"
            if images
            else ("categorical_crossentropy" if exp.task == "classification" else "mse")
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
            if activation not in CLASS_OUTPUTS[training["from_logits"]]:
                problems.append(
                    f"config key {exp.key}.model.args.output_activation: {activation!r} with training.from_logits "
                    f"{training['from_logits']} gives no class probabilities: use softmax outputs without "
                    "from_logits, or no activation (logits) with from_logits: true"
                )
        if exp.model["builder"] in LOGIT_BUILDERS and not training["from_logits"]:
            problems.append(
                f"{key}.from_logits: builder {exp.model['builder']!r} ends in logits (a Dense layer without softmax), "
                "which the loss must be told: set from_logits: true (or leave it out: it defaults by task)"
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
        elif exp.mode == "grid":
            point = next(e.id for e in experiments.values() if e.grid_of == exp.id)
            problems.append(
                f"{key}.experiment: {exp.id!r} is a grid (one model per point), not one model; "
                f"name one of its points, e.g. {point!r}"
            )
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


def _arg_problems(builder: str, args: dict, key: str, what: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(_args_schema(builder))
    problems = []
    for error in validator.iter_errors(args):
        name = ".".join(map(str, error.absolute_path))
        problems.append(f"config key {key}: {what}: model.args.{name or '?'}: {error.message}")
    return problems


def _choice_problems(builder: str, exp: Experiment, name: str, values: list, where: str) -> list[str]:
    """keras-tuner's Choice takes values of one type; each must be a valid value of the builder argument."""
    types = sorted({type(v).__name__ for v in values})
    if len(types) > 1:
        return [
            f"{where}.values: {values} mix {' and '.join(types)}; keras-tuner's Choice takes one type of value "
            "(all text, all numbers or all true/false)"
        ]
    problems = []
    for value in values:
        args = {**exp.model["args"], name: value}
        problems += _arg_problems(builder, args, f"{exp.key}.tuner.hyperparameters.{name}.values", f"value {value!r}")
    return problems


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
                    continue
                if space["type"] == "choice":
                    problems += _choice_problems(builder, exp, name, space["values"], where)
                    continue
                if space["type"] == "int" and any(float(space[k]) != int(space[k]) for k in ("min", "max", "step")):
                    problems.append(f"{where}: type int needs integer min, max and step")
                if space["min"] > space["max"]:
                    problems.append(f"{where}: min {space['min']} is larger than max {space['max']}")
                arg_types = _args_schema(builder)["properties"][name].get("type") or []
                arg_types = [arg_types] if isinstance(arg_types, str) else arg_types
                if space["type"] == "float" and "integer" in arg_types and "number" not in arg_types:
                    problems.append(f"{where}: {name!r} takes whole numbers; use type int")
                for end in ("min", "max"):
                    value = int(space[end]) if space["type"] == "int" else float(space[end])
                    args = {**exp.model["args"], name: value}
                    problems += _arg_problems(
                        builder, args, f"{exp.key}.tuner.hyperparameters.{name}.{end}", f"value {value!r}"
                    )
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
        alphas = IMAGENET_ALPHAS.get(base["name"]) if base is not None else None
        if alphas and base["weights"] == "imagenet" and base["alpha"] is not None and base["alpha"] not in alphas:
            problems.append(
                f"config key {exp.key}.base_model.alpha: Keras has ImageNet weights of {base['name']} for alpha "
                f"{list(alphas)} only, not {base['alpha']}; choose one, or weights: null / a local file"
            )
    return problems


def logged_names(training: dict) -> list[str]:
    """The quantities training logs each epoch (history.csv's columns): loss and each metric's Keras
    name, and their val_ versions when it validates."""
    names = ["loss"] + [METRIC_LOG_NAMES[m] for m in training["metrics"]]
    return names + ([f"val_{n}" for n in names] if training["validation"] else [])


def _why_not_logged(name: str, training: dict) -> str:
    base = name[4:] if name.startswith("val_") else name
    if base in ("acc", "mse", "mean_squared_error", "root_mean_squared_error"):
        keras3 = {"acc": "accuracy", "mse": "loss", "mean_squared_error": "loss", "root_mean_squared_error": "rmse"}
        return f" (Keras 3 logs {base!r} as {keras3[base]!r})"
    if name.startswith("val_") and not training["validation"]:
        return " (val_ quantities need validation data: set training.validation to test or val)"
    if base in METRIC_LOG_NAMES and base not in training["metrics"]:
        return f" (add {base} to training.metrics)"
    return ""


def monitored(experiments: dict[str, Experiment]) -> list[str]:
    """Early stopping and the tuner's objective watch a quantity training logs (else Keras fails late, or
    early stopping is silently off); a sweep records each value's val_loss and val_accuracy."""
    problems = []
    for exp in _configured(experiments):
        training = exp.training
        names = logged_names(training)
        watched = []
        if training["early_stopping"]:
            watched.append(("training.early_stopping.monitor", training["early_stopping"]["monitor"]))
        if exp.tuner is not None:
            watched.append(("tuner.objective", exp.tuner["objective"]))
        for key, name in watched:
            if name not in names:
                why = _why_not_logged(name, training)
                problems.append(
                    f"config key {exp.key}.{key}: {name!r} is never logged by this training{why}; it logs {names}"
                )
        if exp.mode == "grid" and exp.sweep is not None and "accuracy" not in training["metrics"]:
            problems.append(
                f"config key {exp.key}.training.metrics: a sweep records each value's validation accuracy; "
                f"include accuracy (got {training['metrics']})"
            )
    return problems


MAX_SEED = 2**32 - 1  # numpy's seed range (config/schema.yaml)


def seeds(experiments: dict[str, Experiment]) -> list[str]:
    """Repeats take seeds seed .. seed+repeats-1, all within numpy's range."""
    return [
        f"config key {exp.key}.repeats: seeds {exp.seed}..{exp.seed + exp.repeats - 1} pass numpy's largest seed "
        f"{MAX_SEED}; lower seed or repeats"
        for exp in _configured(experiments)
        if exp.seed + exp.repeats - 1 > MAX_SEED
    ]


def training_outputs(experiments: dict[str, Experiment]) -> list[str]:
    """TensorBoard histograms go to the TensorBoard logs: they need ``tensorboard: true``."""
    problems = []
    for exp in _configured(experiments):
        training, key = exp.training, f"config key {exp.key}.training"
        if training["tensorboard_histograms"] and not training["tensorboard"]:
            problems.append(f"{key}.tensorboard_histograms: needs tensorboard: true (histograms go to its logs)")
    return problems


def table_settings(datasets: dict[str, Dataset]) -> list[str]:
    """A table's target, id column, features, categorical columns, separator and split shares agree."""
    problems = []
    for name, dataset in datasets.items():
        spec, key = dataset.spec, f"config key datasets.{name}"
        if dataset.kind == "weather" and spec["target"] in CALENDAR_COLUMNS:
            problems.append(
                f"{key}.target: {spec['target']!r} is a calendar column, never predicted; "
                "choose a measured column (e.g. BASEL_sunshine)"
            )
        if dataset.kind != "table":
            continue
        target, id_column, features = spec["target"], spec["id_column"], spec["features"]
        if id_column is not None and id_column == target:
            problems.append(f"{key}.id_column: {id_column!r} is the target; the id column names rows, choose another")
        if id_column in PREDICTION_COLUMNS:
            problems.append(
                f"{key}.id_column: {id_column!r} is a column the predictions files add "
                f"{list(PREDICTION_COLUMNS)}; rename the column in the file"
            )
        reserved = [c for c in (target, id_column) if c is not None]
        if isinstance(features, list):
            clash = [c for c in features if c in reserved]
            if clash:
                problems.append(f"{key}.features: {clash} is the target or the id column, which cannot be a feature")
        elif isinstance(features, dict):
            clash = [c for c in features["drop"] if c in reserved]
            if clash:
                problems.append(
                    f"{key}.features.drop: {clash} is the target or the id column, never a feature anyway; "
                    "remove it from drop"
                )
        categorical = spec["categorical"] or []
        not_features = [
            c
            for c in categorical
            if c in reserved
            or (isinstance(features, list) and c not in features)
            or (isinstance(features, dict) and c in features["drop"])
        ]
        if not_features:
            problems.append(f"{key}.categorical: {not_features} are not feature columns ({key}.features)")
        separator = spec["separator"]
        if separator in BAD_SEPARATORS:
            problems.append(f"{key}.separator: {separator!r} is {BAD_SEPARATORS[separator]}, not a column separator")
        split = spec["split"]
        if split["test_size"] + split["validation_size"] >= 1:
            problems.append(
                f"{key}.split: test_size {split['test_size']} + validation_size {split['validation_size']} leave no "
                "rows for training; together they must stay below 1"
            )
    return problems


def class_names(datasets: dict[str, Dataset]) -> list[str]:
    """Configured class names are told apart by more than upper/lower case or surrounding spaces."""
    problems = []
    for name, dataset in datasets.items():
        by_key: dict[str, list[str]] = {}
        for label in dataset.spec.get("class_names") or []:
            by_key.setdefault(label.strip().casefold(), []).append(label)
        clashes = [v for v in by_key.values() if len(v) > 1]
        if clashes:
            problems.append(
                f"config key datasets.{name}.class_names: {clashes[0]} differ only in upper/lower case "
                "or spaces; every class needs a name of its own"
            )
    return problems


def notebooks(datasets: dict[str, Dataset], root: Path = NOTEBOOKS) -> list[str]:
    """A dataset's `notebook` names a notebook of notebooks/."""
    problems = []
    for name, dataset in datasets.items():
        notebook = dataset.spec["notebook"]
        if notebook is not None and not (root / f"{notebook}.ipynb").is_file():
            known = sorted(p.stem for p in root.glob("*.ipynb"))
            problems.append(
                f"config key datasets.{name}.notebook: no notebooks/{notebook}.ipynb; the notebooks: {known}"
            )
    return problems


def _cnn_size(size: int, args: dict) -> int | None:
    """The side of the feature map a cnn builder leaves from ``size`` pixels, or None if a layer gets nothing."""
    pooled = args["conv_layers"] if args["pooled_layers"] is None else args["pooled_layers"]
    for block in range(1, args["conv_layers"] + 1):
        size -= args["kernel_size"] - 1
        if size < 1:
            return None
        if block <= pooled:
            size //= 2
            if size < 1:
                return None
    return size


def _search_corners(exp: Experiment) -> list[dict]:
    """The model.args a sweep or tuner builds, at the ends of every searched range (each value of a sweep
    or a choice; min and max of a range), so a check of these covers the grid."""
    args = exp.model["args"]
    if exp.sweep is not None:
        return [{**args, exp.sweep["arg"]: v} for v in exp.sweep["values"]]
    if exp.tuner is None:
        return [args]
    spaces = exp.tuner["hyperparameters"]
    options = [spec["values"] if spec["type"] == "choice" else [spec["min"], spec["max"]] for spec in spaces.values()]
    corners = itertools.islice(itertools.product(*options), 256)
    return [{**args, **dict(zip(spaces, corner, strict=True))} for corner in corners]


def image_sizes(datasets: dict[str, Dataset], experiments: dict[str, Experiment]) -> list[str]:
    """A cnn's convolutions and poolings fit the image size of an image folder (known before its images)."""
    problems = []
    for exp in _configured(experiments):
        dataset = datasets[exp.dataset]
        if dataset.kind != "image_folder" or exp.model["builder"] != "cnn" or exp.mode == "grid":
            continue  # a grid's points are checked one by one
        height, width = dataset.spec["image_size"]
        for args in _search_corners(exp):
            try:
                fits = all(_cnn_size(side, args) for side in (height, width))
            except (KeyError, TypeError):
                continue  # a bad argument is reported by the schema checks
            if not fits:
                changed = {k: v for k, v in args.items() if exp.model["args"].get(k) != v}
                prefix = "model.args."
                changed |= {k[len(prefix) :]: v for k, v in (exp.point or {}).items() if k.startswith(prefix)}
                problems.append(
                    f"config key {exp.key}.model.args: {args['conv_layers']} Conv2D block(s) with kernel_size "
                    f"{args['kernel_size']} and pooled_layers {args['pooled_layers']}"
                    + (f" (with {changed})" if changed else "")
                    + f" shrink images of {height}x{width} (datasets.{exp.dataset}.image_size) to nothing; use fewer "
                    "blocks, a smaller kernel_size or larger images"
                )
                break
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
    problems = top_level(config) + references(config, datasets) + dataset_keys(raw, datasets)
    problems += dataset_files(datasets)
    problems += table_settings(datasets) + class_names(datasets) + notebooks(datasets)
    problems += views(datasets, experiments) + validation_splits(datasets, experiments)
    problems += episodes(datasets, experiments)
    for check in (modes, builders, task_fit, monitored, training_outputs, seeds, searches, base_models):
        problems += check(experiments)
    problems += image_sizes(datasets, experiments) + predictions(config, experiments)
    return list(dict.fromkeys(problems))  # a grid's points share its block: one message per problem
