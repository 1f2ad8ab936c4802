"""Download: checksums, retries on HTTP errors, file://, mirror, package data, atomic writes."""

import hashlib
import http.server
import socket
import threading
from pathlib import Path

import pytest

from dlwf.core.errors import DownloadError
from dlwf.data import download

PAYLOAD = b"date,value\n2000-01-01,1\n"
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
BIG = bytes(range(256)) * 12_000  # 3.07 MB: three chunks and a bit


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: dict = {}
    # path -> list of status codes to answer in turn (last one repeats)
    script: dict = {}

    def do_GET(self):  # noqa: N802 - http.server API
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        codes = self.script.get(self.path, [200])
        code = codes[min(self.hits[self.path], len(codes)) - 1]
        payload = BIG if self.path.startswith("/big") else PAYLOAD
        if code == 200:
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self.send_error(code)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.hits, _Handler.script = {}, {}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()


def test_http_download_verifies_md5_and_records_provenance(server, tmp_path):
    base, _ = server
    record = download.fetch(f"{base}/data.csv", tmp_path / "data.csv", md5=PAYLOAD_MD5, attempts=1)
    assert (tmp_path / "data.csv").read_bytes() == PAYLOAD
    assert record["md5"] == PAYLOAD_MD5 and record["md5_verified"] is True


def test_unknown_md5_is_recorded_not_verified(server, tmp_path):
    base, _ = server
    record = download.fetch(f"{base}/data.csv", tmp_path / "data.csv", md5=None, attempts=1)
    assert record["md5"] == PAYLOAD_MD5 and record["md5_verified"] is False


def test_checksum_mismatch_fails_and_leaves_no_file(server, tmp_path):
    base, _ = server
    with pytest.raises(DownloadError, match="checksum mismatch.*expected md5 0{32}"):
        download.fetch(f"{base}/data.csv", tmp_path / "data.csv", md5="0" * 32, attempts=1)
    assert list(tmp_path.iterdir()) == []


def test_http_500_is_retried_then_succeeds(server, tmp_path):
    base, handler = server
    handler.script["/flaky.csv"] = [500, 503, 200]
    download.fetch(
        f"{base}/flaky.csv", tmp_path / "f.csv", md5=PAYLOAD_MD5, attempts=3, backoff=0.01, log=lambda m: None
    )
    assert handler.hits["/flaky.csv"] == 3
    assert (tmp_path / "f.csv").read_bytes() == PAYLOAD


def test_http_500_gives_up_after_all_attempts_with_clear_error(server, tmp_path):
    base, handler = server
    handler.script["/down.csv"] = [500]
    with pytest.raises(DownloadError, match=r"HTTP 500.*after 3 attempt\(s\).*mirror"):
        download.fetch(f"{base}/down.csv", tmp_path / "d.csv", attempts=3, backoff=0.01, log=lambda m: None)
    assert handler.hits["/down.csv"] == 3
    assert list(tmp_path.iterdir()) == []


def test_http_404_is_not_retried(server, tmp_path):
    base, handler = server
    handler.script["/missing.csv"] = [404]
    with pytest.raises(DownloadError, match="HTTP 404"):
        download.fetch(f"{base}/missing.csv", tmp_path / "m.csv", attempts=3, backoff=0.01)
    assert handler.hits["/missing.csv"] == 1
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_is_retried_then_reported(tmp_path):
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    messages = []
    with pytest.raises(DownloadError, match="connection failed"):
        download.fetch(
            f"http://127.0.0.1:{port}/x.csv", tmp_path / "x.csv", attempts=2, backoff=0.01, log=messages.append
        )
    assert len(messages) == 1 and "retrying" in messages[0]
    assert list(tmp_path.iterdir()) == []


def test_file_url_and_plain_path(tmp_path):
    src = tmp_path / "src.csv"
    src.write_bytes(PAYLOAD)
    download.fetch(src.as_uri(), tmp_path / "a.csv", md5=PAYLOAD_MD5)
    download.fetch(str(src), tmp_path / "b.csv", md5=PAYLOAD_MD5)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes() == PAYLOAD


def test_missing_local_file_names_the_path(tmp_path):
    with pytest.raises(DownloadError, match="does-not-exist.csv"):
        download.fetch(str(tmp_path / "does-not-exist.csv"), tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_mirror_path_layout(tmp_path):
    (tmp_path / "mirror" / "weather").mkdir(parents=True)
    (tmp_path / "mirror" / "weather" / "w.csv").write_bytes(PAYLOAD)
    source = download.mirror_source(tmp_path / "mirror", "weather", "w.csv")
    assert Path(source) == (tmp_path / "mirror" / "weather" / "w.csv").resolve()
    download.fetch(source, tmp_path / "w.csv", md5=PAYLOAD_MD5)
    assert (tmp_path / "w.csv").read_bytes() == PAYLOAD


def test_mirror_with_shared_data_verifies_real_checksum(shared_data, tmp_path):
    source = download.mirror_source(shared_data, "weather", "weather_prediction_dataset.csv")
    record = download.fetch(source, tmp_path / "w.csv", md5="cb5c07c9d1307d41823a332d02e03bad")
    assert record["bytes"] > 2_000_000


def test_package_source_is_the_palmerpenguins_table(tmp_path):
    record = download.fetch("package://palmerpenguins/data/penguins.csv", tmp_path / "p.csv")
    assert record["md5"] == "a06a0210251465a86fb970018292304d"


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://example.org/data.csv", "refusing insecure URL"),
        ("ftp://example.org/data.csv", "unsupported source"),
        ("package://no_such_module_xyz/data.csv", "not installed"),
    ],
)
def test_refused_sources(url, message, tmp_path):
    with pytest.raises(DownloadError, match=message):
        download.fetch(url, tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_mirror_replaces_remote_urls_only(tmp_path):
    remote = "https://zenodo.org/records/5071376/files/w.csv?download=1"
    assert download.choose_source(remote, tmp_path, "weather", "w.csv") == str(tmp_path.resolve() / "weather" / "w.csv")
    assert download.choose_source(remote, None, "weather", "w.csv") == remote
    for local in ("package://palmerpenguins/data/penguins.csv", "file:///data/w.csv", "/data/w.csv"):
        assert download.choose_source(local, tmp_path, "weather", "w.csv") == local


def test_a_long_download_logs_its_size_and_progress(server, tmp_path):
    """Issue 17: a person watching the log (tail -f logs/download/...) sees the size, how far it is,
    how fast it goes and how long the rest may take, and the time it took."""
    base, _ = server
    lines = []
    record = download.fetch(
        f"{base}/big.npy", tmp_path / "big.npy", md5=hashlib.md5(BIG).hexdigest(), log=lines.append, progress_seconds=0
    )
    assert record["bytes"] == len(BIG) == 3_072_000
    assert lines[0] == f"downloading {base}/big.npy (3.07 MB)"
    progress = [line for line in lines if line.startswith("  big.npy: ")]
    assert progress[0].startswith("  big.npy: 1.05 MB of 3.07 MB (34%), ") and "/s, about " in progress[0]
    assert progress[-1].startswith("  big.npy: 3.07 MB of 3.07 MB (100%)")
    assert lines[-1].startswith("downloaded 3.07 MB in ")


def test_a_local_copy_logs_its_size_too(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(BIG)
    lines = []
    download.fetch(str(source), tmp_path / "copy.bin", log=lines.append, progress_seconds=3600)
    assert lines == [f"copying {source} (3.07 MB)"]  # no progress line within the hour


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_500, "1.5 kB"),
        (48_200_000, "48.2 MB"),
        (1_310_000_000, "1.31 GB"),
        (None, "unknown size"),
    ],
)
def test_sizes_read_as_a_person_reads_them(n, text):
    assert download.size_text(n) == text
