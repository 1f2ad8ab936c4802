"""What a report page shows: the :class:`Page` the notebooks under notebooks/ build from their parameters.

Every fact a page states (parameters, epochs, the epoch the model is from, sample counts, trials,
the data files and their md5) is read from the results, and every string that comes from the
config or the data is escaped (:func:`dlwf.core.markup.escape`) before it becomes HTML: pages never
render Markdown or HTML written in the config. The notebooks run this module in the report's kernel
(IPython is imported where something is shown); :func:`dlwf.report.notebook.render` runs them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from dlwf.core.dates import DATE, parse_dates
from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import read_json_checked
from dlwf.core.markup import escape

from .leaderboard import baseline_value, read_record

TABLE_COLUMNS = [
    "experiment",
    "description",
    "metric",
    "value",
    "baseline",
    "beats_baseline",
    "lesson",
    "epochs_run",
    "model_epoch",
    "n_parameters",
    "seed",
    "test_set",
    "test_set_md5",
]
# Figures are shown at the size they were drawn: a CSS pixel is 1/96 inch, so 10 pt text stays
# about 13 px high; pages wider than MAX_WIDTH scale them down (never below 3/4 of that size).
CSS_DPI = 96
MAX_WIDTH = 1200


def days(frame: pd.DataFrame):
    """The x axis of a daily table: its DATE column as dates in whichever common format it is written
    (dlwf.core.dates), else the row numbers."""
    if DATE not in frame:
        return frame.index
    try:
        return parse_dates(frame[DATE], "view")
    except WorkflowInputError:
        return frame.index


def load_records(experiments: dict) -> dict[str, dict]:
    """Return {experiment: its metrics.json record} for the experiments whose files name one."""
    return {
        name: read_record(spec["files"]["metrics.json"])
        for name, spec in experiments.items()
        if "metrics.json" in spec.get("files", {})
    }


def experiments_table(records: dict[str, dict], experiments: dict | None = None) -> pd.DataFrame:
    """Return one row per experiment: its primary metric next to the baseline on the same test set
    (and the lesson's number where the data are the lesson's).

    ``experiments`` is the report's parameter of that name (descriptions and lesson numbers come from it).
    """
    experiments = experiments or {}
    rows = []
    for name, record in records.items():
        primary = record["primary_metric"]
        test_set = record.get("test_set") or {}
        lesson = experiments.get(name, {}).get("lesson") or {}
        rows.append(
            {
                "experiment": name,
                "description": experiments.get(name, {}).get("description", ""),
                "metric": primary["name"],
                "value": primary["value"],
                "baseline": baseline_value(record),
                "beats_baseline": record.get("beats_baseline"),
                "lesson": lesson.get("value") if lesson.get("metric") == primary["name"] else None,
                "epochs_run": record.get("epochs_run"),
                "model_epoch": record.get("model_epoch"),
                "n_parameters": record.get("n_parameters"),
                "seed": record.get("provenance", {}).get("config", {}).get("seed"),
                "test_set": test_set.get("file", ""),
                "test_set_md5": str(test_set.get("md5", ""))[:8],
            }
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for column in ("epochs_run", "model_epoch", "n_parameters", "seed"):
        table[column] = table[column].astype("Int64")
    table["lesson"] = table["lesson"].astype("Float64")
    return table


def comparison_figure(table: pd.DataFrame):
    """Return a figure with each experiment's primary metric as a bar, its baseline as a black mark
    and, where there is one, the lesson's number as a red diamond.

    One panel per metric (accuracy, RMSE, ...); returns None when the table is empty."""
    import matplotlib.pyplot as plt

    if table.empty:
        return None
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 0.45 * len(table) + 1.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = table[table["metric"] == metric].iloc[::-1]
        y = list(range(len(rows)))
        values = rows["value"].astype(float)
        colors = ["tab:green" if beats is True else "tab:gray" for beats in rows["beats_baseline"]]
        ax.barh(y, values, color=colors)
        for i, value in zip(y, values, strict=True):
            ax.annotate(
                f"{value:.3g}",
                (value, i),
                xytext=(-4, 0),
                textcoords="offset points",
                va="center",
                ha="right",
                color="white",
                fontweight="bold",
            )
        has_baseline = rows["baseline"].notna().to_list()
        if any(has_baseline):
            marks = [i for i, b in zip(y, has_baseline, strict=True) if b]
            ax.scatter(
                rows["baseline"][has_baseline].astype(float),
                marks,
                marker="|",
                s=400,
                color="black",
                linewidths=2,
                zorder=3,
                label="baseline (same test set)",
            )
        lesson = rows["lesson"] if "lesson" in rows else pd.Series([None] * len(rows))
        has_lesson = lesson.notna().to_list()
        if any(has_lesson):
            marks = [i for i, b in zip(y, has_lesson, strict=True) if b]
            ax.scatter(
                lesson[has_lesson].astype(float),
                marks,
                marker="D",
                s=60,
                color="tab:red",
                zorder=4,
                label="the lesson's published number",
            )
        ax.set_yticks(y, rows["experiment"])
        ax.set_xlabel(f"{metric} on the test set (bars)")
        if any(has_baseline) or any(has_lesson):
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="small", frameon=False)
    fig.suptitle("Each experiment against its baseline (green: beats it)", y=1.02)
    fig.tight_layout()
    return fig


def curves_figure(histories: dict[str, str], metric: str):
    """Return one plot of every experiment's validation ``metric`` per epoch (training values if none).

    Returns None when no history has the metric."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    drawn = False
    for name, path in histories.items():
        history = pd.read_csv(path)
        column = f"val_{metric}" if f"val_{metric}" in history else metric
        if column not in history:
            continue
        ax.plot(history["epoch"], history[column], label=f"{name} ({column})")
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per epoch on the validation data")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def display_width(png: str | os.PathLike) -> int:
    """The width in CSS pixels at which a PNG shows at the size it was drawn (its dpi), capped at MAX_WIDTH."""
    from PIL import Image

    with Image.open(png) as image:
        width = image.width
        dpi = float((image.info.get("dpi") or (100,))[0]) or 100.0
    return round(min(width * CSS_DPI / dpi, MAX_WIDTH))


def svg_of(fig) -> str:
    """A matplotlib figure as SVG text (text drawn as paths, no date), the figure closed."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def _count(value) -> str:
    return f"{int(value):,}"


def model_facts(record: dict) -> list[str]:
    """What a metrics.json record says about the trained model, as sentences (plain text)."""
    facts = []
    if record.get("n_parameters") is not None:
        text = f"{_count(record['n_parameters'])} parameters"
        if record.get("n_trainable_parameters") is not None:
            text += f", {_count(record['n_trainable_parameters'])} of them trained"
        facts.append(text)
    epochs = record.get("epochs_run")
    if epochs is not None:
        planned = record.get("provenance", {}).get("config", {}).get("training", {}).get("epochs")
        text = f"trained for {epochs} epoch{'s' if epochs != 1 else ''}"
        if record.get("stopped_early"):
            text += f" (early stopping ended it before the configured {planned})"
        facts.append(text)
    if record.get("model_epoch") is not None:
        facts.append(
            f"the evaluated model has the weights of epoch {record['model_epoch']}: "
            f"{record.get('model_epoch_note', '')}".rstrip(": ")
        )
    samples = record.get("samples") or {}
    if samples:
        names = {"train": "training", "validation": "validation", "test": "test"}
        order = [s for s in names if s in samples] + [s for s in samples if s not in names]
        facts.append("samples: " + ", ".join(f"{_count(samples[s])} {names.get(s, s)}" for s in order))
    seed = record.get("provenance", {}).get("config", {}).get("seed")
    if seed is not None:
        facts.append(f"seed {seed}")
    return facts


class Page:
    """One report page: its parameters, the results they name, and safe ways to show them.

    Methods that show something call IPython's ``display``; everything they put into HTML is
    escaped, so a description like ``<script>...`` shows as text.
    """

    def __init__(
        self,
        dataset: str,
        episode: str = "",
        description: str = "",
        exploration=(),
        views=None,
        data=None,
        sources=None,
        experiments=None,
    ):
        self.dataset = dataset
        self.episode = episode
        self.description = description
        self.exploration = list(exploration or [])
        self.views = dict(views or {})
        self.data = dict(data or {})
        self.sources = {
            name: read_json_checked(path, (), "download record")
            for name, path in (sources or {}).items()
            if Path(path).is_file()
        }
        self.experiments = dict(experiments or {})
        self.records = load_records(self.experiments)
        self.table = experiments_table(self.records, self.experiments)
        # repeats of an experiment (other seeds) appear in the tables, their figures only once; the
        # points of a grid are shown in their grid's section (and in the tables)
        self.runs = {
            name: spec
            for name, spec in self.experiments.items()
            if not spec.get("repeat_of") and not spec.get("grid_of")
        }

    # ------------------------------------------------------------------ showing things

    days = staticmethod(days)

    @staticmethod
    def show_html(markup: str) -> None:
        """Show HTML built by this class (never pass config text here unescaped)."""
        from IPython.display import HTML, display

        display(HTML(markup))

    def title(self, topic: str) -> None:
        """The page's heading, the dataset's description and, for an episode's page, which one."""
        heading = f"{self.dataset}: {topic}"
        if self.episode:
            heading = f"{self.episode.replace('episode', 'Episode ')} of the lesson ({heading})"
        description = f"<p>{escape(self.description)}</p>" if self.description else ""
        self.show_html(f"<h1>{escape(heading)}</h1>{description}")

    def heading(self, text: str, level: int = 2) -> None:
        self.show_html(f"<h{level}>{escape(text)}</h{level}>")

    def say(self, text: str) -> None:
        """A paragraph of plain text."""
        self.show_html(f"<p>{escape(text)}</p>")

    def mode(self, mode: str) -> dict:
        """The runs (repeats and grid points left out) of one mode: 'single', 'grid', 'tuner',
        'transfer'; 'sweep' gives the grids that are the lesson's sweeps (they have sweep.csv)."""
        if mode == "sweep":
            return {name: spec for name, spec in self.runs.items() if "sweep.csv" in spec["files"]}
        return {name: spec for name, spec in self.runs.items() if spec.get("mode") == mode}

    def primary(self, name: str) -> str:
        metric = self.records[name]["primary_metric"]
        return f"{metric['name']} {metric['value']:.3f}"

    def facts(self, name: str) -> list[str]:
        """Everything the page says of an experiment, from its result files."""
        spec = self.experiments[name]
        record = self.records.get(name, {})
        facts = model_facts(record)
        if spec.get("view"):
            facts.append(f"view {spec['view']}")
        if "trials.csv" in spec["files"]:
            trials = pd.read_csv(spec["files"]["trials.csv"])
            facts.append(f"{len(trials)} trial{'s' if len(trials) != 1 else ''} run")
        if "sweep.csv" in spec["files"]:
            sweep = pd.read_csv(spec["files"]["sweep.csv"])
            facts.append(f"{len(sweep)} value{'s' if len(sweep) != 1 else ''} trained")
        base = record.get("base_model")
        if base:
            weights = "pretrained" if base.get("pretrained") else "random weights"
            facts.append(f"frozen base {base.get('name', '?')} ({weights})")
        if record.get("warning"):
            facts.append(f"warning: {record['warning']}")
        lesson = spec.get("lesson")
        if lesson:
            facts.append(f"the lesson reports {lesson['metric']} {lesson['value']:g} ({lesson['where']})")
        return facts

    def summary(self, name: str, result: str = "") -> None:
        """An experiment's heading (with ``result``), its description and its facts."""
        heading = f"{name}: {result}" if result else name
        parts = [f"<h3>{escape(heading)}</h3>"]
        description = self.experiments[name].get("description")
        if description:
            parts.append(f"<p>{escape(description)}</p>")
        facts = self.facts(name)
        if facts:
            parts.append("<ul>" + "".join(f"<li>{escape(f)}</li>" for f in facts) + "</ul>")
        self.show_html("".join(parts))

    def picture(self, spec: dict | str, name: str | None = None) -> None:
        """Show a PNG of the workflow (an experiment's file ``name``, or a path) at the size it was drawn."""
        from IPython.display import Image, display

        path = spec if name is None else spec["files"].get(name)
        if path and Path(path).is_file():
            display(Image(filename=str(path), width=display_width(path)))

    @staticmethod
    def show_table(frame: pd.DataFrame, index: bool = False) -> None:
        from IPython.display import HTML, display

        shown = frame.astype(object).where(frame.notna(), None)  # pandas' <NA> shows as an empty cell
        display(HTML(shown.to_html(index=index, escape=True, float_format=lambda v: f"{v:.4g}", na_rep="")))

    @staticmethod
    def show(fig) -> None:
        """Show a matplotlib figure as SVG (sharp at any size)."""
        from IPython.display import SVG, display

        if fig is not None:
            display(SVG(svg_of(fig)))

    # ------------------------------------------------------------------ sections every page has

    def data_files(self) -> None:
        """Which data files the results come from: name, md5 and source, from the download records."""
        rows = []
        for name, record in self.sources.items():
            source = record.get("canonical_url", record.get("source", ""))
            if record.get("mirror"):
                source += f" (copy from mirror {record['mirror']})"
            rows.append(
                {
                    "file": f"resources/{self.dataset}/{name}",
                    "bytes": record.get("bytes"),
                    "md5": record.get("md5"),
                    "source": source,
                }
            )
        used = {tuple(sorted(r.get("provenance", {}).get("dataset_md5", {}).items())) for r in self.records.values()}
        self.heading("The data", 2)
        if rows:
            self.say(
                "The results on this page come from these files (their md5 checksums are also recorded "
                "in every experiment's metrics.json):"
            )
            self.show_table(pd.DataFrame(rows))
        if len(used) > 1:
            self.say(
                "Note: the experiments on this page were trained on different versions of the data "
                "(different checksums in their metrics.json); compare them with care."
            )

    def comparison(self, metric: str) -> None:
        """The comparison figure, the curves of every run and the table of the experiments."""
        self.show(comparison_figure(self.table))
        self.show(
            curves_figure(
                {
                    name: spec["files"]["history.csv"]
                    for name, spec in self.runs.items()
                    if "history.csv" in spec["files"]
                },
                metric,
            )
        )

    def grids(self) -> None:
        """Every grid's table and figure: one run per point of a grid of settings, its metric on the
        test set against the baseline (the lesson's sweeps have a section of their own as well)."""
        grids = {name: spec for name, spec in self.runs.items() if "grid.csv" in spec["files"]}
        if not grids:
            return
        self.heading("Grids")
        self.say(
            "One run per point of a grid of settings (each point is an experiment of its own, with its "
            "files in its directory, and a row of the table above): its metric on the test set against "
            "the baseline."
        )
        for name, spec in grids.items():
            self.summary(name)
            self.picture(spec, "grid.png")
            if Path(spec["files"]["grid.csv"]).is_file():
                self.show_table(pd.read_csv(spec["files"]["grid.csv"]))

    def repeats(self) -> None:
        """The spread over seeds of experiments configured with `repeats`."""
        with_repeats = {name: spec for name, spec in self.runs.items() if "repeats.csv" in spec["files"]}
        if not with_repeats:
            return
        self.heading("Repeats")
        self.say(
            "The same experiment trained with different seeds: the spread shows how much of a difference "
            "between experiments could be chance."
        )
        for name, spec in with_repeats.items():
            per_seed = pd.read_csv(spec["files"]["repeats.csv"])
            self.heading(
                f"{name}: {per_seed['metric'].iloc[0]} over {len(per_seed)} seeds, mean "
                f"{per_seed['value'].mean():.3f}, standard deviation {per_seed['value'].std():.3f}",
                3,
            )
            self.show_table(per_seed)
