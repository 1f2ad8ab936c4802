"""The bottom layer: errors, atomic file writes, provenance and the TensorFlow runtime set-up."""
