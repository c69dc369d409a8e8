"""components/ingestion/data_source.py: --data-dir, then the cache, then a verified download, then synthetic images."""
import errno
import functools
import http.server
import io
import os
import threading
import zipfile

import pytest

from components.ingestion.folder_scan import DataError, scan_image_folder
from components.schema_contract import find_schema_for
from components.ingestion import data_source
from pipeline.config import DEFAULT_GROUP_PATTERN, DEFAULT_SCHEMA_DIR

SMALL_COUNTS = {
    "horse-or-human": {"horses": 3, "humans": 2},
    "validation-horse-or-human": {"horses": 1, "humans": 1},
}


def zip_of(counts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for class_name, count in counts.items():
            for index in range(count):
                bundle.writestr(f"{class_name}/{class_name[:-1]}{index:02d}-0.png", b"\x89PNG stand-in bytes")
    return buffer.getvalue()


@pytest.fixture
def local_server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1 (loopback only)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFER_PIPELINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data_source, "EXPECTED_COUNTS", SMALL_COUNTS)
    return tmp_path / "cache"


def closed_port_url():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/missing.zip"


def serve_small_zips(local_server, monkeypatch):
    """Zips of SMALL_COUNTS served by the local server as the official download; returns its folder."""
    root, base = local_server
    urls = {}
    for name, counts in SMALL_COUNTS.items():
        (root / f"{name}.zip").write_bytes(zip_of(counts))
        urls[name] = f"{base}/{name}.zip"
    monkeypatch.setattr(data_source, "DATASET_URLS", urls)
    return root


def test_a_given_directory_is_used_as_it_is(tmp_path):
    path, source = data_source.resolve_data_dir(str(tmp_path), str(tmp_path / "out"), print)
    assert path == str(tmp_path) and source["source"] == "given"


def test_download_is_verified_then_cached_for_the_next_run(cache, local_server, tmp_path, monkeypatch):
    root = serve_small_zips(local_server, monkeypatch)
    messages = []

    path, source = data_source.resolve_data_dir(None, str(tmp_path / "out"), messages.append)

    assert source["source"] == "download"
    assert sorted(os.listdir(os.path.join(path, "horses"))) == ["horse00-0.png", "horse01-0.png", "horse02-0.png"]
    assert any("verified 5 images" in m for m in messages)
    (root / "horse-or-human.zip").unlink()  # a second run must not need the network
    again, source = data_source.resolve_data_dir(None, str(tmp_path / "out"), messages.append)
    assert (again, source["source"]) == (path, "cache")


def test_a_download_with_the_wrong_counts_is_refused(cache, local_server, tmp_path, monkeypatch):
    root, base = local_server
    (root / "short.zip").write_bytes(zip_of({"horses": 1, "humans": 2}))
    monkeypatch.setattr(data_source, "DATASET_URLS", {"horse-or-human": f"{base}/short.zip"})

    with pytest.raises(DataError, match="expected .* images per class"):
        data_source.resolve_data_dir(None, str(tmp_path / "out"), print)


def test_offline_falls_back_to_a_loudly_announced_synthetic_set(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(data_source, "DATASET_URLS", {"horse-or-human": closed_port_url()})
    messages = []

    path, source = data_source.resolve_data_dir(None, str(tmp_path / "out"), messages.append)

    assert source["source"] == "synthetic"
    banner = "\n".join(messages)
    assert "SYNTHETIC" in banner and "--data-dir" in banner
    scan = scan_image_folder(path, DEFAULT_GROUP_PATTERN)
    assert scan.class_names == ["circles", "squares"] and not scan.rejected
    assert len({c.group for c in scan.candidates}) > 2  # subjects, so the split by subject applies
    assert find_schema_for(scan.class_names, DEFAULT_SCHEMA_DIR)  # a curated schema exists for it


def test_an_unwritable_cache_is_an_error_not_a_reason_for_synthetic_data(local_server, tmp_path, monkeypatch):
    serve_small_zips(local_server, monkeypatch)
    monkeypatch.setattr(data_source, "EXPECTED_COUNTS", SMALL_COUNTS)
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("TRANSFER_PIPELINE_CACHE", str(blocker / "cache"))

    with pytest.raises(DataError, match="cannot download horse-or-human into the cache") as refused:
        data_source.resolve_data_dir(None, str(tmp_path / "out"), print)
    assert str(blocker) in str(refused.value) and "TRANSFER_PIPELINE_CACHE" in str(refused.value)
    assert not (tmp_path / "out" / "synthetic_images").exists()


def error_of(action):
    try:
        action()
    except Exception as err:  # noqa: BLE001 (the error itself is the result)
        return err
    raise AssertionError("no error raised")


def write_to_a_full_disk():
    with open("/dev/full", "wb") as device:  # every write fails with ENOSPC, as on a full disk
        device.write(b"an image")


def silent_server():
    """A socket that accepts connections and never answers (a stalled network)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


def test_only_network_errors_count_as_offline(local_server, tmp_path):
    import urllib.request

    _, base = local_server
    stalled = silent_server()
    refused = error_of(lambda: urllib.request.urlopen(closed_port_url(), timeout=5))
    timed_out = error_of(lambda: urllib.request.urlopen(f"http://127.0.0.1:{stalled.getsockname()[1]}/x.zip", timeout=0.5))
    stalled.close()
    not_found = error_of(lambda: urllib.request.urlopen(f"{base}/no-such.zip", timeout=5))
    disk_full = error_of(write_to_a_full_disk)
    (tmp_path / "file").write_text("a file where a folder should be")
    not_a_dir = error_of(lambda: os.makedirs(tmp_path / "file" / "cache"))

    assert data_source.is_offline(refused) and data_source.is_offline(timed_out)
    assert not data_source.is_offline(not_found)  # the server answered
    assert not data_source.is_offline(disk_full) and not data_source.is_offline(not_a_dir)
    assert disk_full.errno == errno.ENOSPC and not_a_dir.errno == errno.ENOTDIR
    # (tests run as root, where no file is unwritable: the permission error is built, not provoked)
    assert not data_source.is_offline(PermissionError(errno.EACCES, "Permission denied"))
