"""One view of the weather data: features of day i, today's and the next day's target."""

from _rule import run

from dlwf import fileio, weather


def main(snakemake):
    settings = snakemake.params.view
    data = weather.read_weather(snakemake.input.raw, settings["target"])
    view = weather.make_view(
        data,
        settings["target"],
        last_row=settings["last_row"],
        feature_prefixes=settings["feature_prefixes"],
        where=settings["where"],
    )
    features = weather.view_features(view, settings["target"])
    print(f"view {snakemake.wildcards.view}: {len(view)} rows, {len(features)} features (raw file {data.shape})")
    fileio.write_csv(view, snakemake.output.view)


run(main, snakemake)
