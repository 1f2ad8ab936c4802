"""Rules of rules/weather.smk: episode 3's views of the weather table, their splits and figures."""

from __future__ import annotations

from dlwf.core.fileio import write_csv, write_json
from dlwf.data import tables, weather
from dlwf.evaluate import metrics


def prepare_view(
    raw: str, target: str, last_row: int | None, feature_prefixes: list[str], view_out: str, where: str
) -> None:
    """One view of the raw table: features of day i, today's and the next day's target.

    ``where`` is the view's config key, named in error messages.
    """
    data = weather.read_weather(raw, target)
    view = weather.make_view(data, target, last_row=last_row, feature_prefixes=feature_prefixes, where=where)
    features = weather.view_features(view, target)
    print(f"{view_out}: {len(view)} rows, {len(features)} features (raw file {data.shape})")
    write_csv(view, view_out)


def split(
    view_csv: str,
    target: str,
    test_size: float,
    holdout_test_size: float,
    random_state: int,
    train_out: str,
    val_out: str,
    test_out: str,
    columns_out: str,
    where: str = "split",
) -> None:
    """Train / validation / test split of one view, as in the lesson (two train_test_split calls).

    ``where`` is the dataset's split key, named in error messages.
    """
    view = tables.read_csv_checked(
        view_csv, [weather.DATE, weather.next_day_column(target), weather.baseline_column(target)]
    )
    tables.numeric_array(view, [c for c in view.columns if c != weather.DATE], view_csv)  # a view edited by hand
    train, validation, test = weather.split_view(
        view, test_size=test_size, holdout_test_size=holdout_test_size, random_state=random_state, where=where
    )
    baseline = metrics.rmse(test[weather.next_day_column(target)], test[weather.baseline_column(target)])
    print(f"train {len(train)} rows, validation {len(validation)} rows, test {len(test)} rows")
    print(f"baseline RMSE on the test set: {baseline!r}")
    write_csv(train, train_out)
    write_csv(validation, val_out)
    write_csv(test, test_out)
    write_json(weather.columns_contract(view, target), columns_out)
