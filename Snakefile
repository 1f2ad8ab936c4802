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
    """Everything enabled in the config: results, reports, predictions on new data, the leaderboard."""
    default_target: True
    input:
        PLAN.targets(),


# One target per episode of the lesson: the results of its experiments (`episode:` in the config)
# and its report page reports/episode<N>.html.
rule episode2:
    """Episode 2, classification with Keras: the penguins networks and reports/episode2.html."""
    input:
        PLAN.episode_targets("episode2"),


rule episode3:
    """Episode 3, monitor the training process: the weather models and reports/episode3.html."""
    input:
        PLAN.episode_targets("episode3"),


rule episode4:
    """Episode 4, advanced layer types: CNNs, dropout sweep, tuning and reports/episode4.html."""
    input:
        PLAN.episode_targets("episode4"),


rule episode5:
    """Episode 5, transfer learning: the frozen pretrained base and head, reports/episode5.html."""
    input:
        PLAN.episode_targets("episode5"),


rule lesson:
    """Every episode of the lesson (episode2 ... episode5) and the leaderboard."""
    input:
        PLAN.lesson_targets(),


onsuccess:
    report_run_end(failed=False)


onerror:
    report_run_end(failed=True)
