"""The drift gate's decision on real horse-or-human and rock-paper-scissors images written as ingestion's
tf.Examples, summarised by a real (seeded random, 75 px) base: a first run goes on with no reference, a
span like the reference passes, a span without a class or of other pictures stops naming its checks, and an
accepted span goes on with its reason (the DriftGate's accepted_reason parameter, its one source of acceptance).
The window's summary is written for the Pusher every time."""
import json
import os
from pathlib import Path

import pytest
import tensorflow as tf

from tfx.types import artifact_utils, standard_artifacts

from components import constants
from components.drift.component import DriftGate, DriftReference as DriftReferenceArtifact, DriftReport as DriftReportArtifact
from components.drift.component import drift_settings_json, feature_base
from components.drift.executor import (ACCEPTED, DRIFTED, NO_REFERENCE, PASSED, REPORT_FILE, DriftError,
                                       read_ingested_images, run_gate, serving_reference, stopped_report_dir,
                                       summarise)
from components.drift.features import PooledFeatureExtractor
from components.drift.settings import DriftSettings
from components.drift.statistics import REFERENCE_FILE, ReferenceStatistics
from components.model.settings import TrainerSettings

BASE = TrainerSettings(weights="none", image_size=75)


@pytest.fixture(scope="module")
def extractor():
    return PooledFeatureExtractor(BASE, progress=lambda message: None)


def hoh(root, span, horses, humans, views=2):
    """(path, class, group, span) of horse-or-human subjects' first views."""
    rows = [(root / "horses" / f"horse{s:02d}-{v}.png", "horses", f"horse{s:02d}", span)
            for s in horses for v in range(views)]
    return rows + [(root / "humans" / f"human{s:02d}-{v:02d}.png", "humans", f"human{s:02d}", span)
                   for s in humans for v in range(views)]


def write_examples(directory, rows):
    """rows as ingestion's tf.Examples, alternately in the train and eval split."""
    writers = {split: tf.io.TFRecordWriter(str(directory / f"Split-{split}" / "data.tfrecord"))
               for split in (constants.TRAIN_SPLIT, constants.EVAL_SPLIT)
               if (directory / f"Split-{split}").mkdir(parents=True, exist_ok=True) is None}
    for i, (path, class_name, group, span) in enumerate(rows):
        def text(value):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        example = tf.train.Example(features=tf.train.Features(feature={
            constants.IMAGE_BYTES_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[path.read_bytes()])),
            constants.CLASS_NAME_KEY: text(class_name), constants.GROUP_KEY: text(group), constants.SPAN_KEY: text(span),
        }))
        writers[constants.TRAIN_SPLIT if i % 2 else constants.EVAL_SPLIT].write(example.SerializeToString())
    for writer in writers.values():
        writer.close()
    return str(directory)


def gate(tmp_path, name, rows, window, serving_dir, extractor, accepted_reason="", **settings):
    examples = write_examples(tmp_path / name / "examples", rows)
    report_dir, reference_dir = tmp_path / name / "report", tmp_path / name / "reference"
    run = lambda: run_gate(examples, [constants.TRAIN_SPLIT, constants.EVAL_SPLIT], window,  # noqa: E731
                           serving_reference(str(serving_dir)), DriftSettings(**settings).validate(),
                           lambda: extractor, str(report_dir), str(reference_dir), accepted_reason=accepted_reason,
                           log=lambda line: None)
    return run, report_dir, reference_dir


def push(serving_dir, version, reference_dir):
    """A served version as the Pusher leaves it: a push record and the window's reference beside it."""
    folder = serving_dir / str(version)
    folder.mkdir(parents=True)
    (folder / "push_record.json").write_text(json.dumps({"pushed_by": "pipeline", "fingerprint": str(version)}))
    (folder / REFERENCE_FILE).write_text((reference_dir / REFERENCE_FILE).read_text())


@pytest.fixture(scope="module")
def served(tmp_path_factory, horse_or_human_dir, extractor):
    """A first run (span-1: four subjects a class) with nothing serving, its reference pushed as version 1."""
    tmp_path = tmp_path_factory.mktemp("gate")
    serving = tmp_path / "serving"
    run, report_dir, reference_dir = gate(tmp_path, "first", hoh(horse_or_human_dir, "span-1", range(1, 5), range(1, 5)),
                                          ["span-1"], serving, extractor)
    first = run()
    push(serving, 1, reference_dir)
    return tmp_path, serving, first, report_dir, reference_dir


def test_a_first_run_has_no_reference_goes_on_and_writes_its_windows_reference(served):
    _, _, first, report_dir, reference_dir = served
    assert first.verdict == NO_REFERENCE and first.checks == [] and "nothing is serving" in first.why
    assert json.loads((report_dir / REPORT_FILE).read_text())["verdict"] == NO_REFERENCE
    reference = ReferenceStatistics.from_json((reference_dir / REFERENCE_FILE).read_text())
    assert reference.class_counts == {"horses": 8, "humans": 8} and reference.feature_rows.shape == (16, 768)


def test_a_span_like_the_reference_passes_and_only_it_is_compared(served, horse_or_human_dir, extractor):
    tmp_path, serving, *_ = served
    rows = (hoh(horse_or_human_dir, "span-1", range(1, 5), range(1, 5))
            + hoh(horse_or_human_dir, "span-2", range(5, 9), range(5, 9)))
    report = gate(tmp_path, "same", rows, ["span-1", "span-2"], serving, extractor)[0]()
    assert report.verdict == PASSED and report.reference_version == 1
    assert [check.name for check in report.checks] == ["class_prior", "missing_classes", "content_mmd2",
                                                       "format_share", "size_median_ratio", "size_outside_share"]
    assert report.images == {"newest span": 16, "window": 32}


def test_a_class_missing_stops_the_run_naming_the_check_and_the_fix(served, horse_or_human_dir, extractor):
    tmp_path, serving, *_ = served
    run, report_dir, reference_dir = gate(tmp_path, "missing", hoh(horse_or_human_dir, "span-2", range(5, 9), []),
                                          ["span-2"], serving, extractor)
    with pytest.raises(DriftError, match=r"(?s)class_prior: 0\.5 > threshold 0\.25.*missing_classes: 1 > threshold 0 "
                                         r"\(missing: humans\).*--accept-drift --reason TEXT \(on Kubeflow: "
                                         r"transfer-pipeline submit --accept-drift --reason TEXT, for that one run\)"):
        run()
    written = json.loads((report_dir / REPORT_FILE).read_text())
    assert written["verdict"] == DRIFTED and written["reference_version"] == 1
    # TFX removes a failed execution's outputs: the stopped gate's report is kept beside them too.
    assert (Path(stopped_report_dir(str(report_dir))) / REPORT_FILE).read_text() == (report_dir / REPORT_FILE).read_text()
    assert os.path.exists(reference_dir / REFERENCE_FILE)


def hand_photographs(rock_paper_scissors_dir):
    """Rock-paper-scissors photographs filed as horses and humans (span-3): JPEG of other sizes."""
    return [(path, "horses" if gesture == "rock" else "humans", path.stem.split("-")[0], "span-3")
            for gesture in ("rock", "paper") for path in sorted((rock_paper_scissors_dir / gesture).iterdir())[:6]]


def test_accepted_drift_goes_on_and_records_the_reason(served, rock_paper_scissors_dir, extractor):
    tmp_path, serving, *_ = served
    run = gate(tmp_path, "accepted", hand_photographs(rock_paper_scissors_dir), ["span-3"], serving, extractor,
               accepted_reason="hand photographs are the product now")[0]
    report = run()
    assert report.verdict == ACCEPTED and report.accepted_reason == "hand photographs are the product now"
    assert {check.name for check in report.checks if check.verdict == DRIFTED} >= {"format_share", "size_outside_share"}


def drift_gate_component(tmp_path, name, rows, window, serving_dir, drift_settings: str, accepted_reason):
    """DriftGate's own function (TFX's test_call), its parameters as pipeline/pipeline.py and the Kubeflow
    run parameter hand them in; returns the report it wrote."""
    examples = standard_artifacts.Examples()
    examples.uri = write_examples(tmp_path / name / "examples", rows)
    examples.split_names = artifact_utils.encode_split_names([constants.TRAIN_SPLIT, constants.EVAL_SPLIT])
    examples.set_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY, window)
    report, reference = DriftReportArtifact(), DriftReferenceArtifact()
    report.uri, reference.uri = str(tmp_path / name / "report"), str(tmp_path / name / "reference")
    DriftGate.test_call(examples=examples, drift_report=report, drift_reference=reference, serving_dir=str(serving_dir),
                        drift_settings=drift_settings, feature_base=feature_base(BASE), accepted_reason=accepted_reason)
    return json.loads((tmp_path / name / "report" / REPORT_FILE).read_text())


def test_the_gates_accepted_reason_parameter_lets_a_drifted_span_through(served, rock_paper_scissors_dir):
    tmp_path, serving, *_ = served
    written = drift_gate_component(tmp_path, "parameter", hand_photographs(rock_paper_scissors_dir), ["span-3"], serving,
                                   drift_settings_json(DriftSettings()), accepted_reason="hands are the product now")
    assert written["verdict"] == ACCEPTED and written["accepted_reason"] == "hands are the product now"
    assert written["reference_version"] == 1 and written["newest_span"] == "span-3"


def test_the_gate_accepts_by_its_parameter_alone_never_by_the_settings(served, rock_paper_scissors_dir):
    # pipeline/pipeline.py hands a local run's accept_drift to the gate as accepted_reason, and drift_settings
    # without it; drift settings that still carry it (a spec compiled before) accept nothing.
    tmp_path, serving, *_ = served
    settings = DriftSettings(accept_drift=True, accept_drift_reason="baked into a spec").validate()
    assert "accept_drift" not in json.loads(drift_settings_json(settings))
    with pytest.raises(DriftError, match="--accept-drift --reason TEXT"):
        drift_gate_component(tmp_path, "settings", hand_photographs(rock_paper_scissors_dir), ["span-3"], serving,
                             json.dumps(settings.to_dict()), accepted_reason="")


def test_one_pass_summarises_the_window_and_its_newest_span_alike(tmp_path, horse_or_human_dir, extractor):
    rows = hoh(horse_or_human_dir, "span-1", [1], [1]) + hoh(horse_or_human_dir, "span-2", [2], [2])
    ingested = read_ingested_images(write_examples(tmp_path, rows), [constants.TRAIN_SPLIT, constants.EVAL_SPLIT])
    window, newest = summarise(ingested, "span-2", extractor, DriftSettings(drift_feature_rows=3))
    alone, _ = summarise(read_ingested_images(write_examples(tmp_path / "alone", rows[4:]),
                                              [constants.TRAIN_SPLIT, constants.EVAL_SPLIT]),
                         None, extractor, DriftSettings(drift_feature_rows=3), with_newest=False)
    assert window.images == 8 and newest.images == 4 and window.feature_rows.shape[0] == 3
    assert newest.class_counts == alone.class_counts and sorted(newest.feature_groups) == sorted(alone.feature_groups)
