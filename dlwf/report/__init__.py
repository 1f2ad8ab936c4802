"""Reports: figures, the leaderboard and the dataset reports' notebook helpers (no TensorFlow)."""
