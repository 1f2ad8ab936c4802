# The Carpentries lesson "Introduction to Deep Learning" as a reproducible workflow.
# Read top to bottom: config and helpers, then one module per stage of the lesson.
from snakemake.utils import min_version

min_version("9.0")


# The lesson's config, found next to this file (also when another workflow uses this one as a
# module without passing its own `config:`). Overlays: --configfile FILE.
configfile: workflow.source_path("config/config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"


# With `--sdm apptainer` every job runs in this image (config key `container`, default dlwf.sif:
# the pinned stack of requirements.txt built from apptainer.def or the Dockerfile; README,
# "Containers"). Without --sdm apptainer it is not used.
container: config["container"]


include: "rules/download.smk"
include: "rules/tables.smk"
include: "rules/weather.smk"
include: "rules/tabular.smk"
include: "rules/images.smk"
include: "rules/grids.smk"
include: "rules/transfer.smk"
include: "rules/predict.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),


onerror:
    report_missing_downloads()
