"""Dates of a daily table, in the common formats people write them; shared by the weather reader and
the reports (``dlwf.data.weather``, ``dlwf.report.notebook``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import WorkflowInputError

DATE = "DATE"
# The date formats DATE may be written in (the real file: 20000101, read as an integer).
DATE_FORMATS = {
    "%Y%m%d": "20000131",
    "%Y-%m-%d": "2000-01-31",
    "%Y/%m/%d": "2000/01/31",
    "%d.%m.%Y": "31.01.2000",
    "%d/%m/%Y": "31/01/2000",
    "%m/%d/%Y": "01/31/2000",
    "%Y-%m-%dT%H:%M:%S": "2000-01-31T00:00:00",
    "%Y-%m-%d %H:%M:%S": "2000-01-31 00:00:00",
}
ONE_DAY = pd.Timedelta(days=1)


def parse_dates(values: pd.Series, path, column: str = DATE) -> pd.Series:
    """Return the days of a DATE column (datetime64, midnight) in the first of :data:`DATE_FORMATS` that
    reads every value; when two read them all (31/01 vs 01/31), the one giving consecutive days.

    Raises WorkflowInputError naming the first value no format reads, and the accepted formats.
    """
    text = values.astype(str).str.strip().str.replace(r"^(\d{8})\.0$", r"\1", regex=True)
    readable = []
    best_count, first_bad = -1, 0
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        ok = parsed.notna().to_numpy()
        if ok.all():
            readable.append(parsed.dt.normalize())
        elif ok.sum() > best_count:
            best_count, first_bad = int(ok.sum()), int(np.flatnonzero(~ok)[0])
    if not readable:
        raise WorkflowInputError(
            f"{path}: column {column!r} has the value {values.iloc[first_bad]!r} in data row {first_bad + 1}, which is "
            f"not a date; write every date in one of the formats {list(DATE_FORMATS.values())} (31 January 2000)"
        )
    for dates in readable:
        if (dates.diff().iloc[1:] == ONE_DAY).all():
            return dates
    return readable[0]
