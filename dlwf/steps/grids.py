"""Rule aggregate_grid (rules/grids.smk): one row per point of a grid, and the metric over the grid."""

from __future__ import annotations

import pandas as pd

from dlwf.core.fileio import save_figure, write_csv
from dlwf.data.tables import read_history
from dlwf.report.leaderboard import read_record


def table(points: dict, metrics_files: list[str], history_files: list[str]) -> pd.DataFrame:
    """One row per point, in the grid's order: its name and settings, then its results (primary metric,
    the baseline on the same test set, epochs run, the final training loss and parameter count).

    ``points`` is {'paths': [setting paths], 'points': [[name, [value per path]], ...]}."""
    rows = []
    for (name, values), metrics_file, history_file in zip(points["points"], metrics_files, history_files, strict=True):
        record = read_record(metrics_file)
        history = read_history(history_file)
        primary, baseline = record["primary_metric"], record.get("baseline") or {}
        settings = dict(zip(points["paths"], values, strict=True))
        rows.append(
            {
                "point": name,
                **{k: (str(v) if isinstance(v, list | dict) else v) for k, v in settings.items()},
                "metric": primary["name"],
                "value": primary["value"],
                "baseline": baseline.get(primary["name"]),
                "beats_baseline": record.get("beats_baseline"),
                "epochs_run": record["epochs_run"],
                "final_loss": float(history["loss"].iloc[-1]),
                "n_parameters": record["n_parameters"],
            }
        )
    return pd.DataFrame(rows)


def aggregate(
    experiment: str, points: dict, metrics_files: list[str], history_files: list[str], table_out: str, plot_out: str
) -> pd.DataFrame:
    """Write grid.csv and grid.png (each point's metric against the baseline)."""
    from dlwf.report import plots

    frame = table(points, metrics_files, history_files)
    write_csv(frame, table_out)
    save_figure(plots.grid_plot(frame, title=experiment), plot_out)
    print(frame.to_string(index=False))
    return frame
