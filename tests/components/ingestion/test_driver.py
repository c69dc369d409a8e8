"""components/ingestion/driver.py: the input fingerprint (TFX's cache key) sees every change the scan would ingest."""
import dataclasses
import os

from tfx.components.example_gen import utils
from tfx.orchestration import data_types
from tfx.utils import proto_utils

from components.ingestion.component import image_folder_example_gen
from components.ingestion.driver import ImageFolderDriver
from components.ingestion.settings import IngestionSettings
from pipeline.config import DEFAULT_GROUP_PATTERN

SETTINGS = IngestionSettings(DEFAULT_GROUP_PATTERN, 0.2, "seed", 4096 * 4096)


def fingerprint(data_dir, settings=SETTINGS) -> str:
    """What the component's driver records for this folder, as the DAG runner calls it."""
    component = image_folder_example_gen(str(data_dir), settings)
    assert component.driver_class is ImageFolderDriver
    exec_properties = dict(component.exec_properties)
    for key, value in exec_properties.items():  # the runner hands the driver protos as JSON
        if hasattr(value, "DESCRIPTOR"):
            exec_properties[key] = proto_utils.proto_to_json(value)
    pipeline_info = data_types.PipelineInfo("p", "/tmp")
    resolved = ImageFolderDriver(None).resolve_exec_properties(
        exec_properties, pipeline_info, data_types.ComponentInfo("ImageFolderExampleGen", "x", pipeline_info)
    )
    return resolved[utils.FINGERPRINT_PROPERTY_NAME]


def test_unchanged_folder_keeps_its_fingerprint(small_image_set):
    root = small_image_set()

    assert fingerprint(root) == fingerprint(root)


def test_an_image_nested_below_a_class_folder_changes_the_fingerprint(small_image_set):
    root = small_image_set()
    before = fingerprint(root)
    nested = root / "cats" / "indoor" / "2024"
    nested.mkdir(parents=True)
    (root / "cats" / "cat01-0.png").rename(nested / "cat01-0.png")
    moved = fingerprint(root)
    (nested / "cat09-0.png").write_bytes((nested / "cat01-0.png").read_bytes())

    assert len({before, moved, fingerprint(root)}) == 3


def test_an_edit_in_place_with_the_same_size_and_mtime_changes_the_fingerprint(small_image_set):
    root = small_image_set()
    image = root / "dogs" / "dog02-1.png"
    stat = image.stat()
    before = fingerprint(root)
    data = bytearray(image.read_bytes())
    data[-20] ^= 0xFF  # same size, different bytes
    image.write_bytes(bytes(data))
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # mtime put back, as rsync -t or touch -r would

    assert image.stat().st_size == stat.st_size and image.stat().st_mtime_ns == stat.st_mtime_ns
    assert fingerprint(root) != before


def test_a_new_span_changes_the_fingerprint_and_an_image_outside_the_window_does_not(small_image_set, tmp_path):
    for span in ("span-1", "span-2"):
        small_image_set(name=f"data/{span}")
    root = tmp_path / "data"
    newest = dataclasses.replace(SETTINGS, window_spans=1)
    before, pinned = fingerprint(root, newest), fingerprint(root, dataclasses.replace(newest, span="span-1"))
    (root / "span-1" / "cats" / "cat09-0.png").write_bytes((root / "span-1" / "cats" / "cat01-0.png").read_bytes())

    assert fingerprint(root, newest) == before  # span-1 is outside the window of the newest span
    assert fingerprint(root, dataclasses.replace(newest, span="span-1")) != pinned
    small_image_set(name="data/span-3")
    assert fingerprint(root, newest) != before
