"""One view of the weather data: features of day i, today's and the next day's target."""

from _rule import run

from dlwf.steps import weather


def main(snakemake):
    wildcards = snakemake.wildcards
    weather.prepare_view(
        snakemake.input.raw,
        **snakemake.params.view,
        view_out=snakemake.output.view,
        where=f"config key datasets.{wildcards.dataset}.views.{wildcards.view}",
    )


run(main, snakemake)
