"""Shared fixtures: the real horse-or-human images and small image folders built on the fly.

The session starts as every entry point does (pipeline/process/startup.py), before anything imports
TensorFlow: Keras 2 pinned, malloc arenas capped, quiet; and the executors the tests run use Beam as
the local runner and every pod set it up (pipeline/process/beam_mode.py: prepare_local_beam): on the
FnApiRunner, never first offered to Prism, whose failed download left a folder in the temp dir.
"""
import os

from pipeline.process.beam_mode import prepare_local_beam
from pipeline.process.startup import start

start([])
prepare_local_beam()

import copy  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from components.ingestion.folder_scan import DataError  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2  # noqa: E402

from rehearsal import mlmd_conversion  # noqa: E402
from components.ingestion.data_source import find_horse_or_human  # noqa: E402


# A handful of real files: two views of one subject plus single views of others,
# so a subject-wise split has more than one group per class to work with.
REAL_SAMPLE = {
    "horses": ["horse01-0.png", "horse01-9.png", "horse02-0.png", "horse03-0.png", "horse04-0.png"],
    "humans": ["human01-00.png", "human01-30.png", "human02-00.png", "human03-00.png", "human04-00.png"],
}


@pytest.fixture(scope="session")
def horse_or_human_dir() -> Path:
    """The real data set: $HORSE_OR_HUMAN_DIR, else what `run` finds without --data-dir (the cached
    copy, else a verified download into the cache).

    Never a skip: when no copy can be found the test fails, saying how to provide one. Tests that use
    this fixture carry the `real_images` marker; `-m "not real_images"` deselects them explicitly.
    """
    configured = os.environ.get("HORSE_OR_HUMAN_DIR")
    if configured:
        path = Path(configured)
        if not (path / "horses").is_dir() or not (path / "humans").is_dir():
            pytest.fail(
                f"HORSE_OR_HUMAN_DIR={configured} has no horses/ and humans/ sub-folders; "
                "point it at the unpacked horse-or-human training set"
            )
        return path
    try:
        path, _ = find_horse_or_human(print)
    except (DataError, OSError) as err:
        pytest.fail(
            f"horse-or-human images not found: HORSE_OR_HUMAN_DIR is unset, none is cached and the download "
            f"failed ({type(err).__name__}: {err}). Set HORSE_OR_HUMAN_DIR, or deselect these tests with "
            '-m "not real_images"'
        )
    return Path(path)


# Tests that run the pipeline's image: their `make kubeflow-rehearsal` (or `make kubeflow-image`) waits for
# the build .ci/run starts in the background. In one process they go last, so that the build is done by
# then. Shared among processes (make test: pytest-xdist, whole files per process) the longest goes first,
# waiting for the build while another process runs the rest; the others keep their place in the middle,
# where the build is done and a process is free.
NEEDS_THE_IMAGE = ("tests/e2e/test_kubeflow_rehearsal.py", "tests/e2e/test_kubeflow_spans.py")
FIRST_WHEN_SHARED = NEEDS_THE_IMAGE[0]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if {"horse_or_human_dir", "rock_paper_scissors_dir"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_images)
    root, shared = config.rootpath, hasattr(config, "workerinput")  # workerinput: this is an xdist worker
    def place(item) -> int:
        path = item.path.relative_to(root).as_posix()
        if shared:
            return 0 if path == FIRST_WHEN_SHARED else 1
        return 1 if path in NEEDS_THE_IMAGE else 0

    items.sort(key=place)  # stable sort


@pytest.fixture(scope="session")
def horse_png(horse_or_human_dir) -> bytes:
    """A real 300x300 RGBA PNG from the data set, as bytes."""
    return (horse_or_human_dir / "horses" / "horse01-0.png").read_bytes()


@pytest.fixture(scope="session")
def horse_rgb(horse_png) -> Image.Image:
    return Image.open(io.BytesIO(horse_png)).convert("RGB")


@pytest.fixture(scope="session")
def png_canvas():
    """Factory: a valid all-black 1-bit PNG of any size, written row by row (tiny in memory and on disk):
    png_canvas(30000, 30000) is a decompression bomb of a few hundred KB."""
    def make(width: int, height: int) -> bytes:
        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

        compressor = zlib.compressobj(9)
        row = b"\x00" * (1 + (width + 7) // 8)
        data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
        header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")

    return make


def noise_image(size=(48, 48), mode="RGB", seed=0) -> Image.Image:
    """A deterministic picture with real content (not a flat colour)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB").convert(mode)


@pytest.fixture
def small_image_set(tmp_path):
    """Factory: a tiny class-folder data set of real PIL-written images.

    small_image_set() -> tmp_path/images/{cats,dogs}/catNN-M.png, 3 subjects x 2 views
    per class, named so the default subject pattern groups the views.
    """
    def make(classes=("cats", "dogs"), subjects=3, views=2, image_format="PNG", name="images") -> Path:
        root = tmp_path / name
        extension = {"PNG": ".png", "JPEG": ".jpg"}[image_format]
        for class_index, class_name in enumerate(classes):
            folder = root / class_name
            folder.mkdir(parents=True)
            stem = class_name[:-1] if class_name.endswith("s") else class_name
            for subject in range(1, subjects + 1):
                for view in range(views):
                    seed = class_index * 1000 + subject * 10 + view
                    noise_image(seed=seed).save(folder / f"{stem}{subject:02d}-{view}{extension}", image_format)
        return root

    return make


def copy_real_sample(source: Path, root: Path, sample=None) -> Path:
    for class_name, names in (sample or REAL_SAMPLE).items():
        (root / class_name).mkdir(parents=True)
        for name in names:
            shutil.copy(source / class_name / name, root / class_name / name)
    return root


@pytest.fixture
def real_image_folder(horse_or_human_dir, tmp_path) -> Path:
    """A few real horse-or-human images copied into tmp_path, for tests that change the folder."""
    return copy_real_sample(horse_or_human_dir, tmp_path / "horse-or-human")


@pytest.fixture(scope="session")
def real_image_folder_factory(horse_or_human_dir, tmp_path_factory):
    """Factory for module-scoped fixtures: a fresh temporary folder of real sample images."""
    def make(sample=None) -> Path:
        return copy_real_sample(horse_or_human_dir, tmp_path_factory.mktemp("horse-or-human-sample"), sample)

    return make


RPS_CLASSES = ("paper", "rock", "scissors")


@pytest.fixture(scope="session")
def rock_paper_scissors_dir() -> Path:
    """The real 3-class photographs from $RPS_DIR (`.ci/run` sets it). Never a skip: unset or
    incomplete is a failure naming the fix; `-m "not real_images"` deselects these tests explicitly."""
    path = Path(os.environ.get("RPS_DIR", ""))
    if not os.environ.get("RPS_DIR") or not all((path / name).is_dir() for name in RPS_CLASSES):
        pytest.fail(
            f"rock-paper-scissors images not found (RPS_DIR={os.environ.get('RPS_DIR', '')!r} has no paper/, rock/, "
            'scissors/); set RPS_DIR to the data set\'s folder, or deselect these tests with -m "not real_images"'
        )
    return path


@pytest.fixture(scope="module")
def rps_clips(rock_paper_scissors_dir, tmp_path_factory):
    """Factory: every frame of the given video clips, in all three classes, copied into a new folder."""
    def make(clips) -> Path:
        root = tmp_path_factory.mktemp("rps-clips")
        for class_name in RPS_CLASSES:
            (root / class_name).mkdir(parents=True)
            for clip in clips:
                for image in (rock_paper_scissors_dir / class_name).glob(f"{class_name}.{clip}-*_jpg.rf.*.jpg"):
                    shutil.copy(image, root / class_name / image.name)
        return root

    return make


CHROMIUM = "/usr/bin/chromium"  # Debian's package (`make browser` installs it; .ci/run does)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """Opens an HTML file in headless Chromium: open(path, height) -> (rendered DOM, screenshot PNG path, console lines).

    On CI a missing browser is a failure; elsewhere the test is skipped with the command that installs it.
    """
    import subprocess

    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} not found; install it with `make browser` (Debian's chromium package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    def run(path, *flags):
        profile = tmp_path_factory.mktemp("chromium-profile")
        result = subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, Path(path).resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    def open_page(path, height=1800):
        shot = tmp_path_factory.mktemp("screenshot") / (Path(path).stem + ".png")
        dom = run(path, "--dump-dom")
        shown = run(path, f"--window-size=1280,{height}", f"--screenshot={shot}")
        console = [line for line in (dom.stderr + shown.stderr).splitlines() if ":CONSOLE" in line]
        return dom.stdout, shot, console

    return open_page


def kfp_metadata_round_trip(metadata: dict, artifact_id: int = 7) -> dict:
    """An executor's output metadata as the next task's driver hands it over: recorded by KFP's launcher in
    ML Metadata (converter.go StructValueToMLMDValue), read back by the driver (toRuntimeArtifact)."""
    runtime = kfp_pb2.RuntimeArtifact(uri="minio://b/x", type=kfp_pb2.ArtifactTypeSchema(schema_title="tfx.Examples"))
    json_format.ParseDict(metadata, runtime.metadata)
    stored = mlmd_conversion.to_mlmd_artifact(runtime, "examples", "{}")
    stored.id = artifact_id
    return json_format.MessageToDict(mlmd_conversion.to_runtime_artifact(stored))


@pytest.fixture
def kfp_round_trip():
    return kfp_metadata_round_trip


# A realistic run summary as the release before the typed run record wrote it (schema version 1: one flat
# mapping), with every key a local run wrote and the figures of a real horse-or-human run.
CLASSES = ["horses", "humans"]
SUMMARY_V1 = {
    "status": "succeeded",
    "error": None,
    "data": {"source": "given", "data_dir": "/data/horse-or-human"},
    "pipeline_root": "/runs/1/pipeline_root",
    "serving_dir": "/runs/1/serving",
    "components": [
        {"component": "ImageFolderExampleGen", "state": "ran", "seconds": 27.4},
        {"component": "Trainer", "state": "ran", "seconds": 111.0},
        {"component": "Evaluator", "state": "ran", "seconds": 24.2},
        {"component": "Pusher", "state": "ran", "seconds": 1.5},
    ],
    "classes": CLASSES,
    "examples": {"eval": {"horses": 90, "humans": 93}, "train": {"horses": 360, "humans": 372}},
    "groups_per_split": {"eval": 12, "train": 48},
    "groups_in_both_splits": [],
    "rejected_files": [{"file": "README.md", "reason": "not an image file (.md); ignored"}],
    "converted_files": [{"file": "horses/horse09-1.bmp", "note": "palette BMP re-encoded as RGB PNG"}],
    "warnings": [],
    "anomalies": {},
    "metrics": {
        "candidate": {
            "overall": {"accuracy": 0.9617, "auc": 0.9931, "example_count": 183.0, "accuracy_diff": 0.0117},
            "class_name=horses": {"accuracy": 0.9667, "example_count": 90.0, "accuracy_diff": 0.0111},
            "class_name=humans": {"accuracy": 0.957, "example_count": 93.0},
        },
        "baseline": {
            "overall": {"accuracy": 0.95, "auc": 0.98, "example_count": 183.0},
            "class_name=horses": {"accuracy": 0.9556, "example_count": 90.0},
            "class_name=humans": {"accuracy": 0.9462, "example_count": 93.0},
        },
    },
    "confusion_matrix": {"classes": CLASSES, "counts": [[87, 3], [4, 89]]},
    "per_class": {"horses": {"precision": 0.956, "recall": 0.9667, "examples": 90},
                  "humans": {"precision": 0.9674, "recall": 0.957, "examples": 93}},
    "blessing_failures": [],
    "blessed": True,
    "blessed_why": "meets every threshold",
    "baseline": "serving version 1700000000 from /runs/1/serving",
    "pushed": "/runs/1/serving/1700000100",
    "push_note": "pushed as version 1700000100",
    "model": "/runs/1/pipeline_root/Trainer/model/7",
    "seconds": 231.0,
}


@pytest.fixture
def summary_v1():
    return copy.deepcopy(SUMMARY_V1)


@pytest.fixture
def record(summary_v1):
    """That run as the typed record (pipeline/run_record/record.py), loaded as a current release loads the file."""
    from pipeline.run_record.record import RunRecord

    return RunRecord.from_json(json.dumps(summary_v1))
