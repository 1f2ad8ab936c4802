"""Figures made from result files (never from live Keras objects)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from dlwf.core.fileio import save_figure  # noqa: E402


def training_curves(history: pd.DataFrame, title: str = ""):
    """Return a figure with one panel per metric: training vs validation per epoch."""
    metrics = [c for c in history.columns if c != "epoch" and not c.startswith("val_")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        ax.plot(history["epoch"], history[metric], label=f"train {metric}")
        if f"val_{metric}" in history:
            ax.plot(history["epoch"], history[f"val_{metric}"], label=f"validation {metric}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.suptitle(title)
    return fig


def confusion_heatmap(confusion: pd.DataFrame, title: str = ""):
    """Return a seaborn heatmap of a confusion matrix with class names on both axes."""
    size = max(4, 0.6 * len(confusion) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    sns.heatmap(confusion, annot=True, fmt="d", cmap="Blues", ax=ax)
    ax.set_xlabel("Predicted Label")
    ax.set_ylabel("True Label")
    ax.set_title(title)
    return fig


def pairplot(frame: pd.DataFrame, hue: str | None):
    """Return a seaborn pairplot of the numeric columns coloured by ``hue`` (the class column, or None);
    a table without numeric columns gets the bar chart of its classes instead."""
    if frame.drop(columns=[hue] if hue else []).empty:
        fig, ax = plt.subplots(figsize=(6, 4))
        frame[hue].value_counts().sort_index().plot.bar(ax=ax)
        ax.set_ylabel("rows")
        return fig
    grid = sns.pairplot(frame, hue=hue)
    return grid.figure


def prediction_scatter(predictions: pd.DataFrame, split: str, label: str = "value"):
    """Return predicted-vs-true scatter plots of one split: the model beside the baseline, same axes.

    ``predictions`` has columns split, true, predicted, baseline (predictions.csv of a regressor).
    """
    rows = predictions[predictions["split"] == split]
    if rows.empty:
        raise ValueError(f"no predictions for split {split!r}")
    values = pd.concat([rows["true"], rows["predicted"], rows["baseline"]])
    low, high = float(values.min()), float(values.max())
    pad = 0.05 * (high - low or 1.0)
    limits = (low - pad, high + pad)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True)
    for ax, column, who in zip(axes, ["predicted", "baseline"], ["model", "baseline"], strict=True):
        error = float(((rows[column] - rows["true"]) ** 2).mean() ** 0.5)
        ax.scatter(rows[column], rows["true"], s=10, alpha=0.5)
        ax.plot(limits, limits, color="grey", linewidth=1, linestyle="--")
        ax.set_xlim(limits)
        ax.set_ylim(limits)
        ax.set_xlabel(f"predicted {label}")
        ax.set_ylabel(f"true {label}")
        ax.set_title(f"{who} on the {split} set (RMSE {error:.2f}, n={len(rows)})")
    return fig


def save_prediction_scatter(predictions_csv: str, dest: str, split: str, label: str = "value", title: str = "") -> None:
    """Plot one split of a regressor's predictions.csv (model beside baseline) to ``dest``."""
    fig = prediction_scatter(pd.read_csv(predictions_csv), split, label)
    fig.suptitle(title)
    save_figure(fig, dest)


def save_training_curves(history_csv: str, dest: str, title: str = "") -> None:
    """Plot a history CSV to ``dest``."""
    save_figure(training_curves(pd.read_csv(history_csv), title), dest)


def save_confusion_heatmap(confusion_csv: str, dest: str, title: str = "") -> None:
    """Plot a confusion-matrix CSV (true labels as rows) to ``dest``."""
    save_figure(confusion_heatmap(pd.read_csv(confusion_csv, index_col=0), title), dest)


def image_grid(images, labels, class_names: list[str], n: int = 25, columns: int = 5):
    """Return a grid of the first ``n`` images (uint8 RGB), each titled with its class name."""
    n = min(n, len(images))
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2 * columns, 2.2 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i])
            ax.set_title(class_names[int(labels[i])], fontsize=9)
    return fig


def save_image_grid(images, labels, class_names: list[str], dest: str, title: str = "") -> None:
    """Save the 5x5 sample grid of the first 25 images to ``dest``."""
    fig = image_grid(images, labels, class_names)
    fig.suptitle(title)
    save_figure(fig, dest)


def sweep_plot(table: pd.DataFrame, arg: str, title: str = ""):
    """Return the lesson's plot of the final validation loss against the swept value."""
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.lineplot(data=table, x=arg, y="val_loss", marker="o", ax=ax)
    ax.set_xlabel(arg)
    ax.set_ylabel("validation loss (final epoch)")
    ax.set_title(title)
    return fig


def sweep_curves(histories: dict, arg: str, title: str = ""):
    """Return training and validation loss per epoch, one line per swept value."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for value, history in histories.items():
        for ax, column in zip(axes, ["loss", "val_loss"], strict=True):
            ax.plot(history["epoch"], history[column], label=f"{arg}={value}")
    for ax, column in zip(axes, ["training loss", "validation loss"], strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(column)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def grid_plot(table: pd.DataFrame, title: str = ""):
    """Return each grid point's primary metric (bars) with the baseline on the same test set (a line)."""
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(table) + 1.5))
    y = range(len(table))
    ax.barh(list(y), table["value"].astype(float), color="tab:blue")
    if table["baseline"].notna().any():
        ax.axvline(float(table["baseline"].dropna().iloc[0]), color="black", linestyle="--", label="baseline")
        ax.legend(loc="lower right")
    ax.set_yticks(list(y), table["point"])
    ax.invert_yaxis()
    ax.set_xlabel(f"{table['metric'].iloc[0]} on the test set")
    ax.set_title(title)
    fig.tight_layout()
    return fig
