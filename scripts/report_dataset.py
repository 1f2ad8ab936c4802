"""Run the dataset's notebook on its result files; keep the executed notebook and its HTML page."""

from _rule import run

from dlwf import report


def main(snakemake):
    report.render(
        snakemake.input.notebook,
        snakemake.output.notebook,
        snakemake.output.html,
        parameters=dict(snakemake.params.parameters),
        template=snakemake.input.template,
        show_code=snakemake.params.show_code,
    )
    print(f"{snakemake.output.html}: {len(snakemake.params.parameters['experiments'])} experiment(s)")


run(main, snakemake)
