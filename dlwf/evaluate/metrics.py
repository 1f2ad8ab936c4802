"""Metrics for trained models and the baselines they are compared with (arrays in, numbers out).

Sources: accuracy, the majority-class baseline and the confusion matrix of episode 2; RMSE and
the "tomorrow is like today" baseline of episode 3 (scikit-learn's implementations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support, root_mean_squared_error


def majority_baseline_accuracy(train_labels: np.ndarray, test_labels: np.ndarray) -> float:
    """Return the test accuracy of always predicting the most frequent training class."""
    values, counts = np.unique(train_labels, return_counts=True)
    majority = values[np.argmax(counts)]
    return float(np.mean(test_labels == majority))


def classification_metrics(true_idx: np.ndarray, pred_idx: np.ndarray, class_names: list[str]) -> dict:
    """Return accuracy and per-class precision/recall/support for integer labels."""
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(true_idx, pred_idx, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(true_idx, pred_idx)),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
    }


def confusion_frame(true_idx: np.ndarray, pred_idx: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """Return the confusion matrix with 'True Label' rows and 'Predicted Label' columns."""
    matrix = confusion_matrix(true_idx, pred_idx, labels=list(range(len(class_names))))
    frame = pd.DataFrame(matrix, index=class_names, columns=class_names)
    frame.index.name = "True Label"
    frame.columns.name = "Predicted Label"
    return frame


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the root mean squared error."""
    return float(root_mean_squared_error(np.ravel(y_true), np.ravel(y_pred)))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return row-wise softmax probabilities (N, classes) of ``logits`` (numerically stable)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def sparse_crossentropy(labels: np.ndarray, outputs: np.ndarray, from_logits: bool) -> float:
    """Return the mean cross-entropy of class indices ``labels`` (N,) under ``outputs`` (N, classes).

    ``outputs`` are logits when ``from_logits``, else probabilities (as Keras'
    SparseCategoricalCrossentropy, whose clipping to [1e-7, 1 - 1e-7] is applied here too).
    """
    probabilities = softmax(outputs) if from_logits else np.asarray(outputs, dtype=np.float64)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1 - 1e-7)
    return float(-np.mean(np.log(picked)))
