"""Fetch dataset files: HTTPS, ``file://``, local paths, package data and a mirror directory.

Every fetch verifies the md5 from the config, or for a file without one the md5 recorded in
its lock file at the first fetch (:func:`update`); retries transient failures with backoff; and
writes atomically: a failed fetch leaves the destination as it was. A present file that matches
the expected md5 is kept without fetching anything, so a rerun without internet goes on.
"""

from __future__ import annotations

import datetime
import importlib.resources
import ipaddress
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from dlwf.core.errors import DownloadError
from dlwf.core.fileio import atomic_path, md5sum, write_json

USER_AGENT = "dl-lesson-workflow/0.1 (+https://carpentries-incubator.github.io/deep-learning-intro/)"
# HTTP codes worth asking again for; anything else in 4xx is final.
RETRYABLE_HTTP = {408, 425, 429, 500, 502, 503, 504}
LOOPBACK_HOSTS = {"localhost"}
CHUNK = 1 << 20  # bytes read at a time
PROGRESS_SECONDS = 5.0  # a progress line at most this often (config download.progress_seconds)


def mirror_source(mirror: str | os.PathLike, dataset: str, filename: str) -> str:
    """Return the path ``MIRROR/<dataset>/<filename>`` that replaces a canonical URL."""
    return str(Path(mirror).expanduser().resolve() / dataset / filename)


def is_remote(source: str) -> bool:
    """Return True for http(s) URLs: the sources a mirror stands in for."""
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def choose_source(url: str, mirror: str | os.PathLike | None, dataset: str, filename: str) -> str:
    """Return where to fetch from: the mirror copy for remote URLs when a mirror is set, else ``url``.

    Local files, file:// URLs and package data are already on the machine, so they are read
    where they are even when a mirror is configured.
    """
    if mirror and is_remote(url):
        return mirror_source(mirror, dataset, filename)
    return url


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def classify_source(source: str) -> str:
    """Return the kind of ``source``: 'http', 'file' or 'package'; refuse anything else.

    Plain ``http://`` is accepted only for loopback hosts (local test servers); real
    downloads must be HTTPS.
    """
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "https":
        return "http"
    if parsed.scheme == "http":
        if _is_loopback(parsed.hostname):
            return "http"
        raise DownloadError(
            f"refusing insecure URL {source!r}: use https:// (plain http is only allowed "
            "for a local test server on 127.0.0.1)"
        )
    if parsed.scheme == "package":
        return "package"
    if parsed.scheme in ("file", ""):
        return "file"
    raise DownloadError(
        f"unsupported source {source!r}: use an https:// URL, a file:// URL, a local path or package://<module>/<path>"
    )


def _local_path(source: str) -> Path:
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.path))
    return Path(source).expanduser()


def _package_path(source: str) -> Path:
    parsed = urllib.parse.urlparse(source)
    module, rel = parsed.netloc, parsed.path.lstrip("/")
    try:
        root = importlib.resources.files(module)
    except ModuleNotFoundError as exc:
        raise DownloadError(f"source {source!r}: Python package {module!r} is not installed") from exc
    path = Path(str(root.joinpath(rel)))
    if not path.is_file():
        raise DownloadError(f"source {source!r}: package {module!r} has no file {rel!r}")
    return path


def size_text(n: int | None) -> str:
    """A byte count as a person reads it: '912 B', '48.2 MB', '1.31 GB' (powers of 1000)."""
    if n is None:
        return "unknown size"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}" if n < 100 * scale else f"{n / scale:.0f} {unit}"
    return f"{n} B"


def copy_with_progress(
    source, out, total: int | None, name: str, log: Callable[[str], None] = print, every: float = PROGRESS_SECONDS
) -> int:
    """Copy the stream ``source`` to ``out`` chunk by chunk; every ``every`` seconds log how much of
    ``total`` bytes (None: unknown) has arrived, how fast, and how long the rest may take. Return the bytes."""
    done, start = 0, time.monotonic()
    last = start
    while chunk := source.read(CHUNK):
        out.write(chunk)
        done += len(chunk)
        now = time.monotonic()
        if now - last >= every:
            rate = done / max(now - start, 1e-9)
            line = f"  {name}: {size_text(done)}"
            if total:
                left = f", about {(total - done) / rate:.0f} s left" if rate > 0 and total > done else ""
                line += f" of {size_text(total)} ({100 * done / total:.0f}%)"
                line += f", {size_text(int(rate))}/s{left}"
            else:
                line += f", {size_text(int(rate))}/s"
            log(line)
            last = now
    return done


def _copy_local(path: Path, tmp: Path, log: Callable[[str], None] = print, every: float = PROGRESS_SECONDS) -> None:
    if not path.is_file():
        raise DownloadError(f"source file {str(path)!r} does not exist or is not a file")
    total = path.stat().st_size
    log(f"copying {path} ({size_text(total)})")
    with open(path, "rb") as source, open(tmp, "wb") as out:
        copy_with_progress(source, out, total, path.name, log, every)


def _http_get(
    url: str, tmp: Path, timeout: float, log: Callable[[str], None] = print, every: float = PROGRESS_SECONDS
) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        log(f"downloading {url} ({size_text(total)})")
        start = time.monotonic()
        done = copy_with_progress(response, out, total, Path(urllib.parse.urlparse(url).path).name or url, log, every)
        seconds = time.monotonic() - start
        log(f"downloaded {size_text(done)} in {seconds:.1f} s ({size_text(int(done / max(seconds, 1e-9)))}/s)")


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in RETRYABLE_HTTP
    return isinstance(exc, (urllib.error.URLError, ConnectionError, TimeoutError, OSError))


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"connection failed: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def fetch(
    source: str,
    dest: str | os.PathLike,
    md5: str | None = None,
    attempts: int = 3,
    backoff: float = 2.0,
    timeout: float = 60.0,
    log: Callable[[str], None] = print,
    md5_origin: str = "config/config.yaml",
    progress_seconds: float = PROGRESS_SECONDS,
) -> dict:
    """Fetch ``source`` to ``dest`` and return its provenance record.

    Transient HTTP errors (5xx, 429, timeouts, refused connections) are retried up to
    ``attempts`` times with exponential ``backoff`` seconds; a checksum mismatch is final.
    ``md5_origin`` says where the expected md5 comes from (for the mismatch message). The log
    gets the size to come, a progress line every ``progress_seconds`` (bytes so far, percentage,
    speed, time left) and the time it took.
    """
    kind = classify_source(source)
    dest = Path(dest)
    last_error: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            with atomic_path(dest) as tmp:
                if kind == "http":
                    _http_get(source, tmp, timeout, log, progress_seconds)
                elif kind == "package":
                    _copy_local(_package_path(source), tmp, log, progress_seconds)
                else:
                    _copy_local(_local_path(source), tmp, log, progress_seconds)
                actual = md5sum(tmp)
                if md5 and actual != md5.lower():
                    raise DownloadError(
                        f"checksum mismatch for {dest.name} from {source}: expected md5 "
                        f"{md5} ({md5_origin}), got {actual}. The file is corrupt or a different version; "
                        f"fix the source or the md5 in {md5_origin}"
                    )
            break
        except DownloadError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified just below
            last_error = exc
            if kind != "http" or not _is_retryable(exc) or attempt == attempts:
                break
            wait = backoff * 2 ** (attempt - 1)
            log(f"attempt {attempt}/{attempts} for {source} failed ({_describe(exc)}); retrying in {wait:.1f} s")
            time.sleep(wait)
    if last_error is not None and not dest.exists():
        raise DownloadError(
            f"could not fetch {dest.name} from {source}: {_describe(last_error)} "
            f"(after {attempt} attempt(s)). Without internet, put a copy at "
            f"MIRROR/<dataset>/{dest.name} and run with --config mirror=MIRROR"
        ) from last_error
    return {
        "file": dest.name,
        "source": source,
        "md5": actual,
        "md5_expected": md5,
        "md5_verified": bool(md5),
        "bytes": dest.stat().st_size,
    }


def read_lock(path: str | os.PathLike) -> dict | None:
    """Return the lock record of a file (md5 recorded at its first fetch), or None if there is none."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        if not isinstance(record, dict) or not isinstance(record.get("md5"), str) or len(record["md5"]) != 32:
            raise ValueError("no 32-character 'md5'")
    except ValueError as exc:
        raise DownloadError(
            f"{path}: not a valid lock file ({exc}); delete it to record the md5 again at the next fetch"
        ) from exc
    return record


def update(
    source: str,
    dest: str | os.PathLike,
    md5: str | None,
    lock: str | os.PathLike,
    canonical_url: str | None = None,
    log: Callable[[str], None] = print,
    **fetch_settings,
) -> dict:
    """Make ``dest`` a verified copy of ``source``; return its provenance record.

    The expected md5 is ``md5`` (from the config) or, when that is None and the canonical source
    is remote, the one recorded in ``lock`` at the first fetch; without either, the fetched file's
    md5 is recorded in ``lock``. A local source (yours to edit) gets no lock.
    A present ``dest`` with the expected md5 is kept and nothing is fetched (``kept: True``), so
    a rerun works offline; otherwise the file is fetched (``fetch_settings``: attempts, backoff,
    timeout) and replaces ``dest`` only once verified. A present file that matches nothing is
    left untouched when the fetch fails.
    """
    dest = Path(dest)
    remote = is_remote(canonical_url or source)
    locked = read_lock(lock) if md5 is None and remote else None
    expected = md5 or (locked["md5"] if locked else None)
    origin = "config/config.yaml"
    if md5 is None and locked:
        origin = f"{lock}, recorded at the first fetch from {locked['url']}"
    if expected and dest.is_file() and md5sum(dest) == expected.lower():
        log(f"kept the present {dest}: md5 {expected} verified ({origin}); nothing fetched")
        return {
            "file": dest.name,
            "source": str(dest),
            "md5": expected.lower(),
            "md5_expected": expected,
            "md5_verified": True,
            "bytes": dest.stat().st_size,
            "kept": True,
        }
    record = fetch(source, dest, md5=expected, log=log, md5_origin=origin, **fetch_settings)
    record["kept"] = False
    if md5 is None and locked is None and remote:
        write_json(
            {
                "file": dest.name,
                "md5": record["md5"],
                "url": canonical_url or source,
                "recorded": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            },
            lock,
        )
        log(f"no md5 configured for {dest.name}: recorded {record['md5']} in {lock}; later fetches must match it")
    record["md5_verified"] = bool(expected)
    return record
