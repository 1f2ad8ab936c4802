# The Carpentries lesson "Introduction to Deep Learning" as a reproducible workflow.
# Read top to bottom: config and helpers, then one module per stage of the lesson.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/tables.smk"
include: "rules/weather.smk"
include: "rules/tabular.smk"
include: "rules/images.smk"
include: "rules/grids.smk"
include: "rules/transfer.smk"
include: "rules/plots.smk"
include: "rules/predict.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),


onerror:
    report_missing_downloads()
