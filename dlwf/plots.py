"""Figures made from result files (never from live Keras objects)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .fileio import save_figure  # noqa: E402


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


def pairplot(frame: pd.DataFrame, hue: str):
    """Return a seaborn pairplot of the numeric columns coloured by ``hue``."""
    grid = sns.pairplot(frame, hue=hue)
    return grid.figure


def save_training_curves(history_csv: str, dest: str, title: str = "") -> None:
    """Plot a history CSV to ``dest``."""
    save_figure(training_curves(pd.read_csv(history_csv), title), dest)


def save_confusion_heatmap(confusion_csv: str, dest: str, title: str = "") -> None:
    """Plot a confusion-matrix CSV (true labels as rows) to ``dest``."""
    save_figure(confusion_heatmap(pd.read_csv(confusion_csv, index_col=0), title), dest)
