"""Rule download (rules/download.smk): one dataset file, verified, with its provenance record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dlwf.core.fileio import write_json
from dlwf.data import download


def download_file(
    dataset: str,
    filename: str,
    url: str,
    md5: str | None,
    data_out: str,
    provenance_out: str,
    mirror: str | None = None,
    attempts: int = 3,
    backoff: float = 2.0,
    timeout: float = 60.0,
    progress_seconds: float = 5.0,
) -> dict:
    """Make ``data_out`` a verified copy of the file (a present verified copy is kept); write its provenance.

    ``url`` is the canonical source; with ``mirror`` set, a remote URL is read from
    ``MIRROR/<dataset>/<filename>`` instead. ``<data_out>.lock.json`` holds the md5 recorded at
    the first fetch of a file without a configured ``md5`` (see :func:`dlwf.data.download.update`);
    it is not a rule output, so no rerun removes it. Likewise ``<data_out>.failed.json`` records a
    failed fetch until a later one succeeds: with the file absent, the next run treats the dataset
    as unavailable and builds the leaderboard and reports from the others. The log shows the file's
    size, a progress line every ``progress_seconds`` (bytes so far, percentage, speed, time left)
    and how long the fetch took.
    """
    lock = f"{data_out}.lock.json"
    failed = Path(f"{data_out}.failed.json")  # dlwf.plan.layout.failure_marker
    source = download.choose_source(url, mirror, dataset, filename)
    try:
        record = download.update(
            source,
            data_out,
            md5,
            lock,
            canonical_url=url,
            attempts=attempts,
            backoff=backoff,
            timeout=timeout,
            progress_seconds=progress_seconds,
        )
    except Exception as exc:
        write_json(
            {
                "dataset": dataset,
                "file": filename,
                "source": str(source),
                "error": str(exc),
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            failed,
        )
        raise
    failed.unlink(missing_ok=True)
    record.update(dataset=dataset, canonical_url=url, mirror=mirror)
    write_json(record, provenance_out)
    how = "kept" if record["kept"] else f"fetched from {source}:"
    print(f"{how} {filename}: {record['bytes']} bytes, md5 {record['md5']}")
    return record
