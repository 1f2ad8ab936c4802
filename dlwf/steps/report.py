"""Rules of rules/report.smk: the leaderboard, the spread over repeated seeds, the dataset reports."""

from __future__ import annotations

from pathlib import Path

from dlwf.core import markup
from dlwf.core.fileio import atomic_path, write_csv, write_json
from dlwf.report import leaderboard as board
from dlwf.report import notebook


def leaderboard(metrics_files: list[str], experiments: dict, csv_out: str, html_out: str,
                missing: dict | None = None) -> None:
    """Every finished experiment's metrics.json in one table (results/leaderboard.csv and .html).

    ``experiments`` maps ids to {'description', 'repeat_of', 'lesson'} (rule params, escaped for
    them: see :mod:`dlwf.core.markup`); ``missing`` lists the datasets that could not be fetched and
    their experiments. Each row's training time comes from the experiment's benchmark files
    (``benchmarks/<dataset>/<experiment>/``).
    """
    experiments = markup.from_params(experiments)
    missing = markup.from_params(missing or {})
    benchmark_dirs = [str(Path("benchmarks") / Path(m).parent.relative_to("results")) for m in metrics_files]
    table = board.build(metrics_files, benchmark_dirs, experiments)
    write_csv(table, csv_out)
    with atomic_path(html_out) as tmp:
        tmp.write_text(board.to_html(table, missing), encoding="utf-8")
    groups = table["comparison_group"].nunique() if not table.empty else 0
    print(f"{len(table)} rows in {groups} comparison group(s); missing datasets: {sorted(missing) or 'none'}")


def repeats(experiment: str, metrics_files: list[str], csv_out: str, summary_out: str) -> None:
    """Mean, std, min and max of an experiment's metrics over its repeated seeds."""
    table, summary = board.summarise_repeats(experiment, metrics_files)
    write_csv(table, csv_out)
    write_json(summary, summary_out)
    print(summary)


def dataset_report(notebook_path: str, template: str, parameters: dict, show_code: bool, notebook_out: str,
                   html_out: str) -> None:
    """Run the dataset's (or episode's) notebook on its result files; keep the executed notebook and its
    HTML page. ``parameters`` are the rule's params, escaped for them (see :mod:`dlwf.core.markup`)."""
    parameters = markup.from_params(parameters)
    notebook.render(notebook_path, notebook_out, html_out, parameters=parameters, template=template,
                    show_code=show_code)
    print(f"{html_out}: {len(parameters['experiments'])} experiment(s)")
