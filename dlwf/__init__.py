"""Deep learning lesson workflow: the code shared by Snakemake rules and tests.

The package is imported from the repository checkout (scripts put the repository root
on ``sys.path``), so it works inside any per-rule conda env without being installed.
Nothing in here knows about Snakemake objects.
"""

__version__ = "0.1.0"
