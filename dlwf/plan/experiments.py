"""Datasets and experiments of a validated config, as objects; repeats expanded; canonical settings.

An :class:`Experiment` is one trained model (or one sweep/tuner search) with everything that
determines its results. :meth:`Experiment.settings` is that, and only that, in a canonical form
(defaults filled in by the schema, keys sorted, numbers typed as the schema says): it is what the
rules pass as ``params``, what ``metrics.json`` records and what its ``config_hash`` hashes, so a
reworded description, a reordered overlay or a default written out changes nothing.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from dataclasses import dataclass, field

from .config import DefaultFillingValidator, load_schema

# Directory names the workflow itself uses inside results/<dataset>/.
RESERVED_IDS = frozenset({"split", "prepared", "exploration", "views", "features"})
MODES = ("single", "grid", "tuner", "transfer")
TABLE_KINDS = ("table", "weather")  # trained on split CSV files (rules/tabular.smk)
IMAGE_KINDS = ("images", "image_folder")  # trained on prepared image arrays (rules/images.smk)

# Training settings whose default depends on the task (the schema cannot say so; this is the one
# place): what a model needs to learn the task the way the lesson does. Episode 2 (one-hot
# targets, softmax output, categorical cross-entropy), episode 3 (mse, RMSE), episode 4 (class
# indices, Dense(10) logits, sparse categorical cross-entropy from logits, the test files as
# validation data).
TASK_DEFAULTS = {
    "classification": {
        "training": {
            "loss": "categorical_crossentropy",
            "metrics": ["accuracy"],
            "from_logits": False,
            "validation": None,
        },
        "dense": {"output_activation": "softmax"},
    },
    "regression": {
        "training": {"loss": "mse", "metrics": ["rmse"], "from_logits": False, "validation": None},
        "dense": {"output_activation": None},
    },
    "images": {
        "training": {
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
            "from_logits": True,
            "validation": "test",
        },
    },
}


def task_of(dataset: Dataset) -> str:
    """'classification' or 'regression': what the dataset's experiments learn."""
    if dataset.kind == "table":
        return dataset.spec["task"]
    return "regression" if dataset.kind == "weather" else "classification"


def canonical(value):
    """Return ``value`` with dict keys sorted (recursively) and tuples as lists.

    Two configs that mean the same thing get the same canonical form, and so the same ``repr``
    (which is how Snakemake compares ``params`` between runs).
    """
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


@dataclass(frozen=True)
class Dataset:
    """One entry of ``datasets``: ``spec`` is its config block with defaults filled in."""

    id: str
    kind: str
    enabled: bool
    description: str
    spec: dict = field(repr=False)

    @property
    def family(self) -> str:
        """'table' for the kinds trained on split CSV files, 'images' for those trained on image arrays."""
        return "images" if self.kind in IMAGE_KINDS else "table"

    @property
    def files(self) -> list[dict]:
        """The configured raw files: [{'name', 'url', 'md5'}, ...] (none for a local image folder)."""
        return self.spec.get("files", [])

    def file(self, name: str) -> dict | None:
        """The ``files`` entry named ``name`` (None if there is none)."""
        return next((f for f in self.files if f["name"] == name), None)


@dataclass(frozen=True)
class Experiment:
    """One entry of ``experiments`` (or one repeat of it), with defaults filled in.

    ``mode`` says how it trains: 'single' (one model), 'grid' (one run per point of a grid of
    settings, the lesson's dropout sweep among them: the points are experiments of their own, with
    ids '<grid>/<point>'), 'tuner' (a keras-tuner grid search) or 'transfer' (a head on a frozen
    base). ``repeat_of`` names the experiment whose extra seed this is; ``grid_of`` the grid a
    point belongs to, and ``point`` its values (setting path -> value).
    """

    id: str
    dataset: str
    kind: str
    task: str
    mode: str
    seed: int
    enabled: bool
    description: str
    model: dict = field(repr=False)
    training: dict = field(repr=False)
    view: str | None = None
    episode: int | None = None
    repeats: int = 1
    repeat_of: str | None = None
    sweep: dict | None = field(default=None, repr=False)
    tuner: dict | None = field(default=None, repr=False)
    base_model: dict | None = field(default=None, repr=False)
    grid: dict | None = field(default=None, repr=False)
    grid_of: str | None = None
    point: dict | None = field(default=None, repr=False)
    grid_index: int | None = None

    @property
    def key(self) -> str:
        """The config key of the block this experiment comes from (for messages)."""
        return f"experiments.{self.repeat_of or self.grid_of or self.id}"

    def settings(self) -> dict:
        """Everything that determines this experiment's results, canonical (see the module docstring).
        (A fresh copy of the value computed once.)

        Not in it: description, enabled, episode, repeats (and which experiment a repeat belongs to).
        A grid point's settings have its values set and no grid: adding a value to a grid changes
        nothing for the other points.
        """
        return copy.deepcopy(self._settings)

    @functools.cached_property
    def _settings(self) -> dict:
        settings = {"dataset": self.dataset, "seed": self.seed, "model": self.model, "training": self.training}
        for key in ("view", "sweep", "tuner", "base_model", "grid"):
            if getattr(self, key) is not None:
                settings[key] = getattr(self, key)
        return canonical(settings)


def mode_of(spec: dict) -> str:
    """Return how an experiment block trains (see :class:`Experiment`)."""
    if "sweep" in spec or "grid" in spec:
        return "grid"
    if "base_model" in spec:
        return "transfer"
    if "tuner" in spec:
        return "tuner"
    return "single"


def grid_of(spec: dict) -> dict[str, list]:
    """The grid of an experiment block: its `grid`, or the one-dimensional grid of its `sweep`."""
    if "sweep" in spec:
        return {f"model.args.{spec['sweep']['arg']}": list(spec["sweep"]["values"])}
    return spec["grid"]


def _text(value) -> str:
    if isinstance(value, list | tuple):
        return "-".join(_text(v) for v in value)
    return json.dumps(value) if isinstance(value, dict) else str(value)


def point_names(grid: dict[str, list]) -> list[tuple[str, dict]]:
    """(directory name, {path: value}) of every point of the grid's cartesian product, in order.

    A name is '<last part of the path>_<value>' per setting, joined by '__' (dropout_0.2, or
    hidden_units_16-8__learning_rate_0.01); a name that would be unreadable or clash is 'point_<n>'.
    The paths are taken in sorted order, so names (the points' directories) and the order of the
    points do not depend on the order the grid's keys are written in (an overlay may reorder them).
    """
    paths = sorted(grid)
    points = [dict(zip(paths, values, strict=True)) for values in itertools.product(*(grid[p] for p in paths))]
    names = []
    for values in points:
        name = "__".join(f"{path.rsplit('.', 1)[-1]}_{_text(v)}" for path, v in values.items())
        names.append(re.sub(r"[^A-Za-z0-9._-]", "-", name))
    readable = len(set(names)) == len(names) and all(len(n) <= 80 for n in names)
    width = len(str(len(points)))
    return [
        (name if readable else f"point_{i:0{width}d}", values)
        for i, (name, values) in enumerate(zip(names, points, strict=True), start=1)
    ]


def set_path(spec: dict, path: str, value) -> None:
    """Set the dotted setting ``path`` of an experiment block to ``value`` (creating empty blocks)."""
    *parents, last = path.split(".")
    node = spec
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = copy.deepcopy(value)


def _point_problems(name: str, spec: dict, point: dict, where: str) -> list[str]:
    """Schema problems of a grid point's block (its values set), named by the grid's key."""
    schema = load_schema()
    validator = DefaultFillingValidator({**schema["$defs"]["experiment"], "$defs": schema["$defs"]})
    problems = []
    for error in validator.iter_errors(spec):
        inner = ".".join(map(str, error.absolute_path)) or "?"
        shown = ", ".join(f"{v!r}" for v in point.values())
        if error.validator == "additionalProperties":
            message = f"{sorted(set(error.instance) - set(error.schema.get('properties', {})))} unknown"
        else:
            message = error.message
        problems.append(f"config key experiments.{name}.{where}: value {shown}: {inner}: {message}")
    return problems


def make_datasets(config: dict) -> dict[str, Dataset]:
    """Return {id: Dataset} of a validated config (defaults filled in), sorted by id.

    Snakemake merges overlays key by key, the overlay's keys first, so the order of keys in the
    merged config depends on how the overlays are written; the plan's order never does.
    """
    return {
        name: Dataset(name, spec["kind"], spec["enabled"], spec["description"], spec)
        for name, spec in sorted(config["datasets"].items())
    }


def with_task_defaults(spec: dict, dataset: Dataset) -> tuple[dict, dict]:
    """The experiment's (model, training) blocks with the task's defaults (TASK_DEFAULTS) filled in."""
    key = "images" if dataset.family == "images" else task_of(dataset)
    defaults = TASK_DEFAULTS[key]
    training = {**defaults["training"], **spec["training"]}
    model = copy.deepcopy(spec["model"])
    if model["builder"] == "dense":
        model["args"] = {**defaults.get("dense", {"output_activation": None}), **model["args"]}
    return model, training


def _experiment(name: str, spec: dict, dataset: Dataset, **overrides) -> Experiment:
    """An Experiment of an experiment block (defaults filled in); ``overrides`` set its other fields."""
    model, training = with_task_defaults(spec, dataset)
    values = dict(
        id=name,
        dataset=spec["dataset"],
        kind=dataset.kind,
        task=task_of(dataset),
        mode=mode_of(spec),
        seed=spec["seed"],
        enabled=spec["enabled"],
        description=spec["description"],
        model=model,
        training=copy.deepcopy(training),
        view=spec.get("view"),
        episode=spec["episode"],
        repeats=spec["repeats"],
        sweep=copy.deepcopy(spec.get("sweep")),
        tuner=copy.deepcopy(spec.get("tuner")),
        base_model=copy.deepcopy(spec.get("base_model")),
    )
    values.update(overrides)
    return Experiment(**values)


def make_experiments(config: dict, datasets: dict[str, Dataset]) -> tuple[dict[str, Experiment], list[str]]:
    """Return ({id: Experiment} with repeats expanded, sorted by id; problems).

    An experiment with ``repeats: n`` > 1 adds ``<id>_seed<S>`` for ``S`` = seed+1 .. seed+n-1;
    those are ordinary experiments with ``repeat_of`` set. Experiments naming an unknown dataset
    are left out (and reported by :mod:`dlwf.plan.checks`).
    """
    experiments: dict[str, Experiment] = {}
    problems = []
    configured = config["experiments"]
    for name, spec in sorted(configured.items()):
        if spec["dataset"] not in datasets:
            continue
        dataset = datasets[spec["dataset"]]
        if "grid" in spec or "sweep" in spec:
            grid = grid_of(spec)
            if "grid" in spec and "sweep" in spec:
                problems.append(f"config key experiments.{name}: set either sweep or grid, not both")
                continue
            if spec["repeats"] > 1:
                problems.append(
                    f"config key experiments.{name}.repeats: a grid repeats nothing by itself; put the seeds in "
                    "the grid instead (grid: {seed: [1, 2, 3]})"
                )
                continue
            experiments[name] = _experiment(name, spec, dataset, grid=canonical(grid))
            where = "sweep.values" if "sweep" in spec else "grid"
            for index, (point, values) in enumerate(point_names(grid)):
                block = {k: v for k, v in copy.deepcopy(spec).items() if k not in ("grid", "sweep")}
                for path, value in values.items():
                    set_path(block, path, value)
                found = _point_problems(name, block, values, where)
                if found:
                    problems += found
                    continue
                point_id = f"{name}/{point}"
                experiments[point_id] = _experiment(
                    point_id, block, dataset, grid_of=name, point=values, grid_index=index
                )
            continue
        experiments[name] = _experiment(name, spec, dataset)
        for offset in range(1, spec["repeats"]):
            seed = spec["seed"] + offset
            repeat_id = f"{name}_seed{seed}"
            if repeat_id in configured or repeat_id in experiments:
                problems.append(
                    f"config key experiments.{repeat_id}: clashes with repeat {offset + 1} of experiments.{name} "
                    f"(repeats: {spec['repeats']}); rename one of them"
                )
                continue
            experiments[repeat_id] = _experiment(repeat_id, spec, dataset, seed=seed, repeats=1, repeat_of=name)
    return dict(sorted(experiments.items())), problems
