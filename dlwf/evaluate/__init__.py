"""Evaluation: metrics and baselines, and the one place a metrics.json record is assembled."""
