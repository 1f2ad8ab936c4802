"""The workflow's steps: one module per rules file, the only code that reads and writes its files.

Each function here is what one rule's script runs, with the rule's inputs, outputs and params
as plain arguments (paths, settings), so a step also runs by hand or in a test without
Snakemake. Below this layer everything takes and returns objects.
"""
