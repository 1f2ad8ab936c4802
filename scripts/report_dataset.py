"""Run the dataset's notebook on its result files; keep the executed notebook and its HTML page."""

from _rule import run

from dlwf.steps import report


def main(snakemake):
    report.dataset_report(
        snakemake.input.notebook,
        snakemake.input.template,
        dict(snakemake.params.parameters),
        snakemake.params.show_code,
        snakemake.output.notebook,
        snakemake.output.html,
    )


run(main, snakemake)
