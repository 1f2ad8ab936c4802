"""Train / validation / test split of one weather view, as in the lesson (two train_test_split calls)."""

from _rule import run

from dlwf import fileio, tabular, weather


def main(snakemake):
    target = snakemake.params.target
    view = tabular.read_csv_checked(snakemake.input.view, [weather.next_day_column(target)])
    # test_size, random_state and (optional) holdout_test_size of datasets.<id>.split
    train, validation, test = weather.split_view(view, **snakemake.params.split)
    print(f"train {len(train)} rows, validation {len(validation)} rows, test {len(test)} rows")
    print(f"baseline RMSE on the test set: {weather.baseline_rmse(test, target)!r}")
    fileio.write_csv(train, snakemake.output.train)
    fileio.write_csv(validation, snakemake.output.val)
    fileio.write_csv(test, snakemake.output.test)
    fileio.write_json(weather.columns_contract(view, target), snakemake.output.columns)


run(main, snakemake)
