"""Neural networks: the lesson's builders, training, model files, the frozen transfer base, tuning.

Everything here imports Keras: call ``dlwf.core.runtime.configure_tensorflow`` first (the
scripts do, through ``scripts/_rule.py``).
"""
