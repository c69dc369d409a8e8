"""Shared fixtures: the real horse-or-human images and small image folders built on the fly.

Keras 2 must be pinned before anything imports TensorFlow, hence the
environment line at the very top.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import io  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HORSE_OR_HUMAN = REPO_ROOT.parent / "shared" / "datasets" / "horse-or-human"

# A handful of real files: two views of one subject plus single views of others,
# so a subject-wise split has more than one group per class to work with.
REAL_SAMPLE = {
    "horses": ["horse01-0.png", "horse01-9.png", "horse02-0.png", "horse03-0.png", "horse04-0.png"],
    "humans": ["human01-00.png", "human01-30.png", "human02-00.png", "human03-00.png", "human04-00.png"],
}


@pytest.fixture(scope="session")
def horse_or_human_dir() -> Path:
    """The real data set: $HORSE_OR_HUMAN_DIR, else ../shared/datasets/horse-or-human.

    When the variable is set (CI), a missing folder is a failure, never a skip.
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
    if DEFAULT_HORSE_OR_HUMAN.is_dir():
        return DEFAULT_HORSE_OR_HUMAN
    pytest.skip(
        f"horse-or-human images not found (HORSE_OR_HUMAN_DIR unset, {DEFAULT_HORSE_OR_HUMAN} missing); "
        "set HORSE_OR_HUMAN_DIR to run the tests on real images"
    )


@pytest.fixture(scope="session")
def horse_png(horse_or_human_dir) -> bytes:
    """A real 300x300 RGBA PNG from the data set, as bytes."""
    return (horse_or_human_dir / "horses" / "horse01-0.png").read_bytes()


@pytest.fixture(scope="session")
def horse_rgb(horse_png) -> Image.Image:
    return Image.open(io.BytesIO(horse_png)).convert("RGB")


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
