"""components/ingestion/executor.py: the real TFX executor, run in-process on Beam's DirectRunner.

One mixed folder (real images in several formats plus every kind of bad
file) is ingested once per module; each test checks one promise.
"""
import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import pytest
import tensorflow as tf
from PIL import Image
from tfx.types import standard_artifacts, standard_component_specs

from components import constants
from components.ingestion import executor as executor_module
from components.ingestion.component import image_folder_example_gen
from components.ingestion.executor import DECODE_THREADS, ImageFolderExecutor, _in_stable_random_order
from components.ingestion.folder_scan import scan_image_folder
from components.ingestion.settings import IngestionSettings
from components.transform.preprocessing import decode_and_resize
from pipeline.config import DEFAULT_GROUP_PATTERN

MAX_PIXELS = 1000 * 1000


def encode(image, image_format) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def add_files(root, png_canvas):
    """Adds good converted/other-format images and bad files; returns (good, bad) relative paths."""
    horse = Image.open(root / "horses" / "horse01-0.png").convert("RGB")
    human = Image.open(root / "humans" / "human01-00.png").convert("RGB")
    png = (root / "horses" / "horse02-0.png").read_bytes()
    jpeg = encode(horse, "JPEG")
    good = {
        "horses/horse05-0.jpg": jpeg,
        "horses/horse06-0.gif": encode(horse.convert("P"), "GIF"),
        "horses/horse07-0.bmp": encode(horse, "BMP"),
        "humans/human05-00.jpg": encode(human.convert("L"), "JPEG"),
        "humans/human06-00.jpg": encode(human.convert("CMYK"), "JPEG"),
        "humans/human07-00.png": encode(Image.new("RGB", (2000, 2000), (90, 60, 30)), "PNG"),
    }
    bad = {
        "horses/notes.txt": b"vet visit on Monday",
        "horses/.DS_Store": b"\x00\x00\x00\x01Bud1",
        "horses/horse08-0.png": b"",
        "horses/horse09-0.png": png[: len(png) // 2],
        "horses/horse10-0.jpg": jpeg[: len(jpeg) // 2],
        "humans/human08-00.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "humans/human09-00.png": png_canvas(30000, 30000),  # a decompression bomb
        "README.txt": b"top-level file",
    }
    for relative, data in {**good, **bad}.items():
        (root / relative).write_bytes(data)
    (root / "zebras").mkdir()  # an empty class folder
    real = {f"{c.name}/{f.name}" for c in root.iterdir() if c.is_dir() for f in c.iterdir()}
    return (real - set(bad)), set(bad)


@pytest.fixture(scope="module")
def ingested(real_image_folder_factory, tmp_path_factory, png_canvas):
    data_dir = real_image_folder_factory()
    good, bad = add_files(data_dir, png_canvas)
    settings = IngestionSettings(DEFAULT_GROUP_PATTERN, 0.3, "test-seed", MAX_PIXELS)
    # The exec properties TFX would hand the executor, taken from the real component.
    component = image_folder_example_gen(str(data_dir), settings)
    exec_properties = {k: v for k, v in component.exec_properties.items() if v is not None}
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path_factory.mktemp("examples"))

    ImageFolderExecutor().Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, exec_properties)

    return examples, good, bad


def read_split(examples, split):
    files = tf.io.gfile.glob(f"{examples.uri}/Split-{split}/*.gz")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [tf.train.Example.FromString(r.numpy()).features.feature for r in records]


def value(features, key):
    values = features[key].bytes_list.value or features[key].int64_list.value
    assert len(values) == 1
    return values[0].decode() if isinstance(values[0], bytes) else values[0]


def report_of(examples):
    with open(f"{examples.uri}/{constants.INGESTION_REPORT_FILE}") as handle:
        return json.load(handle)


def test_splits_hold_exactly_the_good_images_with_their_labels(ingested):
    examples, good, _ = ingested
    written = defaultdict(list)
    for split in ("train", "eval"):
        for features in read_split(examples, split):
            written[value(features, constants.FILE_PATH_KEY)].append(features)

    assert set(written) == good and all(len(copies) == 1 for copies in written.values())
    for path, (features,) in written.items():
        class_name = path.split("/")[0]
        assert value(features, constants.CLASS_NAME_KEY) == class_name
        assert value(features, constants.LABEL_KEY) == ["horses", "humans"].index(class_name)
        assert value(features, constants.GROUP_KEY) == f"{class_name}/{path.split('/')[1].split('-')[0]}"


def test_every_written_image_decodes_in_transform(ingested):
    examples, _, _ = ingested
    for split in ("train", "eval"):
        for features in read_split(examples, split):
            image = decode_and_resize(tf.constant(features[constants.IMAGE_BYTES_KEY].bytes_list.value[0]))
            assert image.shape == (150, 150, 3), value(features, constants.FILE_PATH_KEY)


def test_no_subject_spans_both_splits_and_eval_has_both_classes(ingested):
    examples, _, _ = ingested
    groups = {split: {value(f, constants.GROUP_KEY) for f in read_split(examples, split)} for split in ("train", "eval")}

    assert groups["train"] & groups["eval"] == set()
    assert {g.split("/")[0] for g in groups["eval"]} == {"horses", "humans"}
    assert {g.split("/")[0] for g in groups["train"]} == {"horses", "humans"}
    assert report_of(examples)["groups_in_both_splits"] == []


def test_report_and_csv_list_each_bad_file_with_its_reason(ingested):
    examples, _, bad = ingested
    with open(f"{examples.uri}/{constants.REJECTED_FILES_CSV}", newline="") as handle:
        csv_rows = {row["file"]: row["reason"] for row in csv.DictReader(handle)}
    report_rows = {row["file"]: row["reason"] for row in report_of(examples)["rejected"]}

    assert csv_rows == report_rows
    assert set(report_rows) == bad
    assert "not an image file" in report_rows["horses/notes.txt"]
    assert "hidden or system file" in report_rows["horses/.DS_Store"]
    assert "zero-byte" in report_rows["horses/horse08-0.png"]
    for cut in ("horses/horse09-0.png", "horses/horse10-0.jpg", "humans/human08-00.png"):
        assert "truncated or corrupt" in report_rows[cut] and "remove it" in report_rows[cut]
    assert "30000x30000" in report_rows["humans/human09-00.png"]
    assert "decompression bomb" in report_rows["humans/human09-00.png"]
    assert examples.get_int_custom_property("rejected_files") == len(bad)


def test_report_counts_classes_conversions_and_warnings(ingested):
    examples, good, _ = ingested
    report = report_of(examples)
    written = {split: len(read_split(examples, split)) for split in ("train", "eval")}

    assert report["class_names"] == ["horses", "humans"]
    assert examples.get_json_value_custom_property("class_names") == ["horses", "humans"]
    assert report["total_examples"] == len(good) == sum(written.values())
    assert {split: sum(c.values()) for split, c in report["counts"].items()} == written
    notes = {row["file"]: row["note"] for row in report["converted"]}
    assert set(notes) == {"humans/human06-00.jpg", "humans/human07-00.png"}
    assert "CMYK" in notes["humans/human06-00.jpg"]
    assert notes["humans/human07-00.png"] == "2000x2000 image downscaled to 1000x1000 PNG"
    assert len(report["warnings"]) == 1 and "zebras" in report["warnings"][0]


def test_artifact_holds_only_splits_and_the_report(ingested):
    examples, _, _ = ingested
    names = sorted(p.rstrip("/") for p in tf.io.gfile.listdir(examples.uri))

    assert names == sorted(["Split-train", "Split-eval", constants.INGESTION_REPORT_FILE, constants.REJECTED_FILES_CSV])
    assert examples.split_names == '["train", "eval"]'


def test_examples_are_written_with_the_classes_mixed_in_an_order_stable_across_runs(ingested):
    examples, _, _ = ingested
    labels = [value(features, constants.LABEL_KEY) for features in read_split(examples, "train")]
    candidates = scan_image_folder(report_of(examples)["data_dir"], DEFAULT_GROUP_PATTERN).candidates

    changes = sum(1 for before, after in zip(labels, labels[1:]) if before != after)
    assert changes > 1, labels  # not one class after the other, as the folder scan lists them
    order = [c.relative_path for c in _in_stable_random_order(candidates, "test-seed")]
    assert order == [c.relative_path for c in _in_stable_random_order(list(reversed(candidates)), "test-seed")]
    assert order != [c.relative_path for c in _in_stable_random_order(candidates, "another-seed")]


def test_images_decoded_on_several_threads_are_written_in_the_order_they_were_listed(ingested):
    examples, _, _ = ingested
    written = [value(features, constants.FILE_PATH_KEY) for features in read_split(examples, "train")]
    candidates = scan_image_folder(report_of(examples)["data_dir"], DEFAULT_GROUP_PATTERN).candidates
    listed = [c.relative_path for c in _in_stable_random_order(candidates, "test-seed")]

    assert DECODE_THREADS >= 2 and len(written) > 2 * DECODE_THREADS  # more than the decoder's lookahead
    assert written == [path for path in listed if path in set(written)]


# A data dir of spans: the same subjects photographed again in a later span, and a span outside the window.
SPAN_SAMPLES = {
    "span-1": {"horses": ["horse01-0.png", "horse02-0.png", "horse03-0.png", "horse04-0.png"],
               "humans": ["human01-00.png", "human02-00.png", "human03-00.png", "human04-00.png"]},
    "span-2": {"horses": ["horse01-9.png", "horse02-1.png", "horse03-1.png", "horse04-1.png"],
               "humans": ["human01-30.png", "human02-01.png", "human03-01.png", "human04-01.png"]},
    "span-3": {"horses": ["horse05-0.png", "horse06-0.png"], "humans": ["human05-00.png"]},
}


@pytest.fixture(scope="module")
def ingested_spans(horse_or_human_dir, tmp_path_factory):
    """The executor on span-1 and span-2 of three spans (--span span-2: a backfill)."""
    data_dir = tmp_path_factory.mktemp("spans")
    for span, sample in SPAN_SAMPLES.items():
        for class_name, names in sample.items():
            (data_dir / span / class_name).mkdir(parents=True)
            for name in names:
                (data_dir / span / class_name / name).write_bytes((horse_or_human_dir / class_name / name).read_bytes())
    settings = IngestionSettings(DEFAULT_GROUP_PATTERN, 0.3, "test-seed", MAX_PIXELS, span="span-2")
    component = image_folder_example_gen(str(data_dir), settings)
    exec_properties = {k: v for k, v in component.exec_properties.items() if v is not None}
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path_factory.mktemp("span-examples"))

    ImageFolderExecutor().Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]}, exec_properties)

    return examples


def test_examples_carry_their_span_and_a_subject_keeps_one_split_across_spans(ingested_spans):
    spans_of_group, splits_of_group = defaultdict(set), defaultdict(set)
    for split in ("train", "eval"):
        for features in read_split(ingested_spans, split):
            span = value(features, constants.SPAN_KEY)
            assert value(features, constants.FILE_PATH_KEY).startswith(f"{span}/")
            spans_of_group[value(features, constants.GROUP_KEY)].add(span)
            splits_of_group[value(features, constants.GROUP_KEY)].add(split)

    assert set().union(*spans_of_group.values()) == {"span-1", "span-2"}  # span-3 is past the window's newest
    assert all(spans == {"span-1", "span-2"} for spans in spans_of_group.values())  # each subject in both spans
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    assert {split for splits in splits_of_group.values() for split in splits} == {"train", "eval"}


def test_report_and_artifact_name_the_window_and_its_images_per_span(ingested_spans):
    report = report_of(ingested_spans)

    assert report["spans"] == {"window": ["span-1", "span-2"], "newest": "span-2",
                               "images": {"span-1": {"horses": 4, "humans": 4}, "span-2": {"horses": 4, "humans": 4}}}
    assert ingested_spans.get_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY) == ["span-1", "span-2"]


def test_a_plain_folder_has_no_spans_in_its_report_nor_on_its_artifact(ingested):
    examples = ingested[0]

    assert report_of(examples)["spans"] is None
    assert examples.get_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY) is None
    assert {value(f, constants.SPAN_KEY) for f in read_split(examples, "train")} == {""}


def _ingest_again(examples, uri):
    """The `ingested` folder through the executor again, into a new artifact at uri."""
    settings = IngestionSettings(DEFAULT_GROUP_PATTERN, 0.3, "test-seed", MAX_PIXELS)
    component = image_folder_example_gen(report_of(examples)["data_dir"], settings)
    again = standard_artifacts.Examples()
    again.uri = str(uri)
    ImageFolderExecutor().Do({}, {standard_component_specs.EXAMPLES_KEY: [again]},
                             {k: v for k, v in component.exec_properties.items() if v is not None})
    return again


def _files(root):
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_without_beam_the_files_and_artifact_are_the_beam_pipelines_byte_for_byte(ingested, tmp_path, monkeypatch):
    examples, _, _ = ingested  # written in this process, without a Beam pipeline (Beam's args name no mode)
    monkeypatch.setattr(executor_module, "runs_in_this_process", lambda beam_args: False)

    by_beam = _ingest_again(examples, tmp_path / "beam")

    ours, beams = _files(Path(examples.uri)), _files(tmp_path / "beam")
    assert sorted(ours) == sorted(beams) and "Split-train/data_tfrecord-00000-of-00001.gz" in ours
    for name in ours:
        # The report names its artifact's folder; everything else is the same bytes.
        assert ours[name].replace(examples.uri.encode(), b"URI") == beams[name].replace(str(tmp_path / "beam").encode(), b"URI"), name
    assert examples.mlmd_artifact.custom_properties == by_beam.mlmd_artifact.custom_properties
    assert examples.split_names == by_beam.split_names


def test_a_failure_while_writing_leaves_no_split_file(ingested, tmp_path, monkeypatch):
    examples, _, _ = ingested
    decoded = []
    real_decode = executor_module._decode

    def decode_then_fail(item, max_pixels):
        decoded.append(item)
        if len(decoded) == 5:
            raise OSError("disk gone")
        return real_decode(item, max_pixels)

    monkeypatch.setattr(executor_module, "_decode", decode_then_fail)
    with pytest.raises(OSError, match="disk gone"):
        _ingest_again(examples, tmp_path / "failed")

    assert not [path for path in (tmp_path / "failed").rglob("*") if path.is_file()]
