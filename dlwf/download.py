"""Fetch dataset files: HTTPS, ``file://``, local paths, package data and a mirror directory.

Every fetch verifies the md5 from the config (or records the computed one when none is
known), retries transient failures with backoff, and writes atomically: after a failure
there is no file at the destination.
"""

from __future__ import annotations

import importlib.resources
import ipaddress
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .errors import DownloadError
from .fileio import atomic_path, md5sum

USER_AGENT = "dl-lesson-workflow/0.1 (+https://carpentries-incubator.github.io/deep-learning-intro/)"
# HTTP codes worth asking again for; anything else in 4xx is final.
RETRYABLE_HTTP = {408, 425, 429, 500, 502, 503, 504}
LOOPBACK_HOSTS = {"localhost"}


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
        f"unsupported source {source!r}: use an https:// URL, a file:// URL, a local path "
        "or package://<module>/<path>"
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
        raise DownloadError(
            f"source {source!r}: Python package {module!r} is not installed"
        ) from exc
    path = Path(str(root.joinpath(rel)))
    if not path.is_file():
        raise DownloadError(f"source {source!r}: package {module!r} has no file {rel!r}")
    return path


def _copy_local(path: Path, tmp: Path) -> None:
    if not path.is_file():
        raise DownloadError(f"source file {str(path)!r} does not exist or is not a file")
    shutil.copyfile(path, tmp)


def _http_get(url: str, tmp: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)


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
) -> dict:
    """Fetch ``source`` to ``dest`` and return its provenance record.

    Transient HTTP errors (5xx, 429, timeouts, refused connections) are retried up to
    ``attempts`` times with exponential ``backoff`` seconds; a checksum mismatch is final.
    """
    kind = classify_source(source)
    dest = Path(dest)
    last_error: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            with atomic_path(dest) as tmp:
                if kind == "http":
                    _http_get(source, tmp, timeout)
                elif kind == "package":
                    _copy_local(_package_path(source), tmp)
                else:
                    _copy_local(_local_path(source), tmp)
                actual = md5sum(tmp)
                if md5 and actual != md5.lower():
                    raise DownloadError(
                        f"checksum mismatch for {dest.name} from {source}: expected md5 "
                        f"{md5}, got {actual}. The file is corrupt or a different version; "
                        "fix the source or the md5 in config/config.yaml"
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
