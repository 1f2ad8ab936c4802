"""Datasets and experiments of a validated config, as objects; repeats expanded; canonical settings.

An :class:`Experiment` is one trained model (or one sweep/tuner search) with everything that
determines its results. :meth:`Experiment.settings` is that, and only that, in a canonical form
(defaults filled in by the schema, keys sorted, numbers typed as the schema says): it is what the
rules pass as ``params``, what ``metrics.json`` records and what its ``config_hash`` hashes, so a
reworded description, a reordered overlay or a default written out changes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

# Directory names the workflow itself uses inside results/<dataset>/.
RESERVED_IDS = frozenset({"split", "prepared", "exploration", "views", "features"})
MODES = ("single", "sweep", "tuner", "transfer")


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
    def files(self) -> list[dict]:
        """The configured raw files: [{'name', 'url', 'md5'}, ...]."""
        return self.spec["files"]

    def file(self, name: str) -> dict | None:
        """The ``files`` entry named ``name`` (None if there is none)."""
        return next((f for f in self.files if f["name"] == name), None)


@dataclass(frozen=True)
class Experiment:
    """One entry of ``experiments`` (or one repeat of it), with defaults filled in.

    ``mode`` says how it trains: 'single' (one model), 'sweep' (one model per value of a builder
    argument), 'tuner' (a keras-tuner grid search) or 'transfer' (a head on a frozen base).
    ``repeat_of`` names the experiment whose extra seed this is (None for a configured one).
    """

    id: str
    dataset: str
    kind: str
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

    @property
    def key(self) -> str:
        """The config key of the block this experiment comes from (for messages)."""
        return f"experiments.{self.repeat_of or self.id}"

    def settings(self) -> dict:
        """Everything that determines this experiment's results, canonical (see the module docstring).

        Not in it: description, enabled, episode, repeats (and which experiment a repeat belongs to).
        """
        settings = {"dataset": self.dataset, "seed": self.seed, "model": self.model, "training": self.training}
        for key in ("view", "sweep", "tuner", "base_model"):
            if getattr(self, key) is not None:
                settings[key] = getattr(self, key)
        return canonical(settings)

    def point_settings(self, value) -> dict:
        """The settings of the sweep's model for one ``value``: the argument set, the sweep left out.

        Adding a value to the sweep does not change the settings (and so the results) of the others.
        """
        settings = self.settings()
        settings.pop("sweep")
        settings["model"]["args"][self.sweep["arg"]] = canonical(value)
        return settings


def mode_of(spec: dict) -> str:
    """Return how an experiment block trains (see :class:`Experiment`)."""
    if "base_model" in spec:
        return "transfer"
    if "sweep" in spec:
        return "sweep"
    if "tuner" in spec:
        return "tuner"
    return "single"


def make_datasets(config: dict) -> dict[str, Dataset]:
    """Return {id: Dataset} of a validated config (defaults filled in), sorted by id.

    Snakemake merges overlays key by key, the overlay's keys first, so the order of keys in the
    merged config depends on how the overlays are written; the plan's order never does.
    """
    return {
        name: Dataset(name, spec["kind"], spec["enabled"], spec["description"], spec)
        for name, spec in sorted(config["datasets"].items())
    }


def _experiment(name: str, spec: dict, kind: str, **overrides) -> Experiment:
    values = dict(
        id=name,
        dataset=spec["dataset"],
        kind=kind,
        mode=mode_of(spec),
        seed=spec["seed"],
        enabled=spec["enabled"],
        description=spec["description"],
        model=copy.deepcopy(spec["model"]),
        training=copy.deepcopy(spec["training"]),
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
        kind = datasets[spec["dataset"]].kind
        experiments[name] = _experiment(name, spec, kind)
        for offset in range(1, spec["repeats"]):
            seed = spec["seed"] + offset
            repeat_id = f"{name}_seed{seed}"
            if repeat_id in configured or repeat_id in experiments:
                problems.append(
                    f"config key experiments.{repeat_id}: clashes with repeat {offset + 1} of experiments.{name} "
                    f"(repeats: {spec['repeats']}); rename one of them"
                )
                continue
            experiments[repeat_id] = _experiment(repeat_id, spec, kind, seed=seed, repeats=1, repeat_of=name)
    return dict(sorted(experiments.items())), problems
