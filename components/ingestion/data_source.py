"""Where the images come from when the user did not say.

Order: --data-dir / DATA_DIR; a cached copy of horse-or-human from an earlier
download; a fresh download of the official zips; and, on an offline machine
(and only there: no name resolution, connection refused, time-out), a small
synthetic set announced loudly as such. A full disk, an unwritable cache or a
broken download is an error to fix, never a reason to train on drawings.
"""
from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
from typing import Callable, Tuple

from components.ingestion.folder_scan import DataError
from components.ingestion.synthetic_images import write_synthetic_images
from components.weights.store import cache_root

DATASET_URLS = {
    "horse-or-human": "https://storage.googleapis.com/learning-datasets/horse-or-human.zip",
    "validation-horse-or-human": "https://storage.googleapis.com/learning-datasets/validation-horse-or-human.zip",
}
# Images per class in each official zip (horse-or-human, CC BY 2.0, Laurence Moroney).
EXPECTED_COUNTS = {
    "horse-or-human": {"horses": 500, "humans": 527},
    "validation-horse-or-human": {"horses": 128, "humans": 128},
}


def _count_images(directory: str) -> dict:
    return {
        name: len([f for f in os.listdir(os.path.join(directory, name)) if not f.startswith(".")])
        for name in sorted(os.listdir(directory))
        if os.path.isdir(os.path.join(directory, name))
    }


def _is_complete(directory: str, expected: dict) -> bool:
    return os.path.isdir(directory) and _count_images(directory) == expected


def download_horse_or_human(cache_dir: str, log: Callable[[str], None], timeout: float = 30.0) -> str:
    """Downloads and verifies both official zips; returns the training-set folder."""
    for name, url in DATASET_URLS.items():
        target = os.path.join(cache_dir, "datasets", name)
        if _is_complete(target, EXPECTED_COUNTS[name]):
            continue
        log(f"downloading {url} ...")
        with tempfile.TemporaryDirectory() as tmp:
            archive = os.path.join(tmp, name + ".zip")
            with urllib.request.urlopen(url, timeout=timeout) as response, open(archive, "wb") as out:
                shutil.copyfileobj(response, out)
            staging = os.path.join(tmp, name)
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(staging)
            counts = _count_images(staging)
            if counts != EXPECTED_COUNTS[name]:
                raise DataError(
                    f"{url}: expected {EXPECTED_COUNTS[name]} images per class, got {counts}; the download is "
                    f"incomplete or changed: delete {target} and retry, or pass --data-dir"
                )
            shutil.rmtree(target, ignore_errors=True)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.move(staging, target)
        log(f"verified {sum(EXPECTED_COUNTS[name].values())} images in {target}")
    return os.path.join(cache_dir, "datasets", "horse-or-human")


_OFFLINE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED, errno.ETIMEDOUT}


def is_offline(err: BaseException) -> bool:
    """True for 'the network cannot reach the server' (DNS, refused, unreachable, time-out), nothing else.

    An HTTP error status means the server was reached; an OSError that is not a network
    error (disk full, permission denied) concerns this machine's files.
    """
    if isinstance(err, urllib.error.HTTPError):
        return False
    if isinstance(err, urllib.error.URLError):
        return isinstance(err.reason, BaseException) and is_offline(err.reason)
    if isinstance(err, (socket.gaierror, socket.timeout, TimeoutError, ConnectionError)):
        return True
    return isinstance(err, OSError) and err.errno in _OFFLINE_ERRNOS


def find_horse_or_human(log: Callable[[str], None]) -> Tuple[str, dict]:
    """The cached horse-or-human training set, else a verified download into the cache.

    Raises DataError for a download that cannot be stored or used; lets offline errors through.
    """
    cache_dir = str(cache_root())
    cached = os.path.join(cache_dir, "datasets", "horse-or-human")
    if _is_complete(cached, EXPECTED_COUNTS["horse-or-human"]):
        log(f"using the cached horse-or-human data set in {cached}")
        return cached, {"source": "cache", "data_dir": cached}
    try:
        path = download_horse_or_human(cache_dir, log)
    except zipfile.BadZipFile as err:
        raise DataError(f"the horse-or-human download is not a valid zip ({err}); retry, or pass --data-dir") from None
    except OSError as err:
        if is_offline(err):
            raise
        raise DataError(
            f"cannot download horse-or-human into the cache {cache_dir} ({type(err).__name__}: {err}); free disk "
            f"space or set TRANSFER_PIPELINE_CACHE to a writable folder, or pass --data-dir"
        ) from None
    return path, {"source": "download", "data_dir": path}


def resolve_data_dir(data_dir, output_dir: str, log: Callable[[str], None]) -> Tuple[str, dict]:
    """Returns (directory, description) of the images to use."""
    if data_dir:
        return data_dir, {"source": "given", "data_dir": data_dir}
    try:
        return find_horse_or_human(log)
    except OSError as err:  # find_horse_or_human lets only offline errors through
        reason = f"{type(err).__name__}: {err}"
    synthetic = write_synthetic_images(os.path.join(output_dir, "synthetic_images"))
    banner = "!" * 78
    log(
        f"\n{banner}\n  No --data-dir given and horse-or-human could not be downloaded ({reason}).\n"
        f"  Using a SYNTHETIC data set of drawn circles and squares in {synthetic}.\n"
        "  Results on it say nothing about real images. Pass --data-dir DIR (one folder per class).\n"
        f"{banner}\n"
    )
    return synthetic, {"source": "synthetic", "data_dir": synthetic, "reason": reason}
