"""pipeline/report/builder.py and render.py: the page carries the run's numbers in the right places,
and says what is missing when the run stopped early."""
import copy
import dataclasses
import json

import lxml.html
import pytest

from components.promotion import noise_gate
from pipeline.report.builder import RunArtifacts, build_report
from pipeline.report.render import render_report
from pipeline.run_record.record import ComponentRun, DataRecord, RunRecord, WarmStartRecord


def page_of(record, **artifacts):
    return lxml.html.fromstring(render_report(build_report(record, RunArtifacts(**artifacts))))


def table(page, table_id):
    """Rows of the table with that id, each a list of cell texts (header row included)."""
    rows = page.get_element_by_id(table_id).findall(".//tr")
    return [[" ".join(cell.text_content().split()) for cell in row if cell.tag in ("td", "th")] for row in rows]


def cards(page):
    """The headline cards at the top of the page: {label: value}."""
    found = page.get_element_by_id("headline").find_class("card")
    return {c.find_class("label")[0].text_content(): c.find_class("value")[0].text_content() for c in found}


def section_text(page, section_id):
    """The text from a section's heading up to the next h2."""
    heading = page.get_element_by_id(section_id)
    parts = []
    for element in heading.itersiblings():
        if element.tag == "h2":
            break
        parts.append(element.text_content())
    return " ".join(" ".join(parts).split())


def test_data_training_and_evaluation_numbers_land_in_their_cells(record, model_run_dir, tmp_path, write_evaluation,
                                                                 trainer_settings):
    page = page_of(record, model_run=model_run_dir, evaluation=write_evaluation(tmp_path / "evaluation"),
                   trainer_settings=trainer_settings)

    assert table(page, "examples")[1:] == [["train", "360", "372", "732", "48"], ["eval", "90", "93", "183", "12"]]
    assert table(page, "rejected")[1] == ["README.md", "not an image file (.md); ignored"]
    assert table(page, "converted")[1] == ["horses/horse09-1.bmp", "palette BMP re-encoded as RGB PNG"]
    epochs = page.find_class("epochs")[0]
    assert [c.text_content() for c in epochs.findall(".//tr")[2]] == ["2", "0.1876", "0.9344", "0.1405", "0.9617"]
    assert table(page, "metrics")[1:] == [
        ["accuracy", "0.9617", "0.95"], ["auc", "0.9931", "0.98"], ["example_count", "183", "183"]
    ]
    assert table(page, "per-class")[1:] == [["horses", "90", "0.956", "0.9667"], ["humans", "93", "0.9674", "0.957"]]
    cells = [t.text_content() for t in page.get_element_by_id("confusion-matrix").find_class("cell")]
    assert cells == ["87", "3", "4", "89"]  # rows true class, columns predicted
    charts = page.findall(".//svg")  # images per class, loss, accuracy, confusion matrix (no examples: no sizes)
    assert [c.get("aria-label") for c in charts] == [
        "images per class and split", "head loss per epoch", "head accuracy per epoch", "confusion matrix"
    ]
    points = [t.text_content() for t in charts[1].findall(".//title")]
    assert points == ["train: 0.4123", "train: 0.1876", "eval: 0.2011", "eval: 0.1405"]
    assert cards(page) == {"Run": "succeeded", "Eval accuracy": "0.9617", "Blessed": "yes", "Pushed": "1700000100",
                           "Images (train / eval)": "732 / 183"}


# What TFMA's jackknife gave for SUMMARY's figures: each value and change with its 95% interval.
FIGURES = {
    "candidate": {
        "overall": {"accuracy": {"value": 0.9617, "lower": 0.93, "upper": 0.99}, "example_count": {"value": 183}},
        "class_name=horses": {"accuracy": {"value": 0.9667, "lower": 0.92, "upper": 1.01}, "example_count": {"value": 90}},
        "class_name=humans": {"accuracy": {"value": 0.957, "lower": 0.91, "upper": 1.0}, "example_count": {"value": 93}},
    },
    "change": {
        "overall": {"accuracy": {"value": 0.0117, "lower": -0.01, "upper": 0.033}},
        "class_name=horses": {"accuracy": {"value": 0.0111, "lower": -0.02, "upper": 0.042}},
        "class_name=humans": {"accuracy": {"value": 0.0108, "lower": 0.001, "upper": 0.02}},
    },
}


def test_gate_table_lists_every_check_with_threshold_measured_value_interval_and_result(record, tmp_path,
                                                                                      write_evaluation):
    evaluation = write_evaluation(tmp_path / "evaluation", figures=FIGURES)
    page = page_of(record, evaluation=evaluation)

    rows = table(page, "gate-checks")
    assert rows[0] == ["Slice", "Metric", "Check", "Threshold", "Measured", "95% interval", "Result"]
    noise = "change beyond noise (policy not_worse)"
    assert rows[1:] == [
        ["overall", "accuracy", "value", "≥ 0.9", "0.9617", "0.930–0.990 (183 images)", "pass"],
        ["overall", "accuracy", "change vs serving model", "≥ -0.01", "0.0117", "-0.010 to +0.033, within noise", "pass"],
        ["class_name=horses", "accuracy", "value", "≥ 0.9", "0.9667", "0.920–1.000 (90 images)", "pass"],
        ["class_name=horses", "accuracy", "change vs serving model", "≥ -0.01", "0.0111", "-0.020 to +0.042, within noise", "pass"],
        ["class_name=humans", "accuracy", "value", "≥ 0.9", "0.957", "0.910–1.000 (93 images)", "pass"],
        ["class_name=humans", "accuracy", "change vs serving model", "≥ -0.01", "0.0108", "+0.001 to +0.020, better beyond noise", "pass"],
        ["overall", "accuracy", noise, "not worse beyond noise", "0.0117", "-0.010 to +0.033, within noise", "pass"],
        ["class_name=horses", "accuracy", noise, "not worse beyond noise", "0.0111", "-0.020 to +0.042, within noise", "pass"],
        ["class_name=humans", "accuracy", noise, "not worse beyond noise", "0.0108", "+0.001 to +0.020, better beyond noise", "pass"],
    ]
    verdict = page.get_element_by_id("verdict").text_content()
    assert "Blessed: yes" in verdict and "version 1700000100 to /runs/1/serving/1700000100" in verdict


def test_a_refused_candidate_shows_the_failed_check_and_why(record, tmp_path, write_evaluation):
    record.model.metrics["candidate"]["class_name=humans"]["accuracy"] = 0.88
    record.gate = dataclasses.replace(record.gate, blessed=False, pushed="not pushed", push_note="not blessed: nothing pushed",
                                      why="[class_name=humans] accuracy (candidate) = 0.8800: below 0.9")
    evaluation = write_evaluation(tmp_path / "evaluation", failures=[("humans", "accuracy", False),
                                                                    ("humans", "accuracy", True)])
    page = page_of(record, evaluation=evaluation)

    rows = {(r[0], r[2]): r for r in table(page, "gate-checks")[1:]}
    assert rows[("class_name=humans", "value")][4:] == ["0.88", "", "FAIL"]
    assert rows[("class_name=humans", "change vs serving model")][4:] == ["-0.0662", "", "FAIL"]
    assert rows[("overall", "value")][6] == "pass"
    assert cards(page)["Blessed"] == "no" and cards(page)["Pushed"] == "no"
    verdict = page.get_element_by_id("verdict").text_content()
    assert "Blessed: no" in verdict and "below 0.9" in verdict and "Pushed: no (not blessed: nothing pushed)" in verdict


def test_without_a_serving_model_the_change_checks_are_marked_not_applied(record, tmp_path, write_evaluation):
    del record.model.metrics["baseline"]
    page = page_of(record, evaluation=write_evaluation(tmp_path / "evaluation"))
    change_rows = [r for r in table(page, "gate-checks")[1:] if r[2] == "change vs serving model"]
    assert change_rows and all(r[4:] == ["—", "", "not applied"] for r in change_rows)


def test_a_candidate_worse_beyond_noise_fails_the_policy_row_and_small_sets_are_warned_of(record, tmp_path,
                                                                                        write_evaluation):
    figures = copy.deepcopy(FIGURES)
    figures["change"]["class_name=humans"]["accuracy"] = {"value": -0.008, "lower": -0.015, "upper": -0.001}
    record.gate.noise = noise_gate.judge(figures, 0.01, 0.01, "not_worse")
    page = page_of(record, evaluation=write_evaluation(tmp_path / "evaluation", figures=figures))

    rows = {(r[0], r[2]): r for r in table(page, "gate-checks")[1:]}
    assert rows[("class_name=humans", "change beyond noise (policy not_worse)")][4:] == [
        "-0.008", "-0.015 to -0.001, worse beyond noise", "FAIL"]
    assert rows[("class_name=humans", "change vs serving model")][6] == "pass"  # within the tolerated drop
    warnings = page.get_element_by_id("gate-warnings").text_content()
    assert "one image moves the recall of horses by 0.011 (90 eval images)" in warnings


def test_a_run_that_stopped_part_way_says_where_and_what_did_not_run(record):
    failed = RunRecord(
        status="failed",
        error="DataValidationError: the examples do not match the curated schema",
        components=[
            ComponentRun("ImageFolderExampleGen", "ran", 20.0),
            ComponentRun("ExampleValidator", "ran", 3.0),
            ComponentRun("DataValidationGate", "failed", 0.2),
        ],
        planned_components=["ImageFolderExampleGen", "ExampleValidator", "DataValidationGate", "Transform", "Trainer"],
        data=DataRecord(classes=record.data.classes, examples=record.data.examples,
                        anomalies={"eval": ["class_name: Unexpected string values"]}),
    )
    page = page_of(failed)

    assert "Stopped at DataValidationGate." in page.get_element_by_id("stopped").text_content()
    assert table(page, "components")[1:] == [
        ["ImageFolderExampleGen", "ran", "20.0"], ["ExampleValidator", "ran", "3.0"],
        ["DataValidationGate", "failed", "0.2"], ["Transform", "not reached", ""], ["Trainer", "not reached", ""],
    ]
    assert page.get_element_by_id("anomalies").text_content() == "[eval] class_name: Unexpected string values"
    for section in ("training", "evaluation", "gate"):
        assert "Not available" in section_text(page, section) or "not decided" in section_text(page, section), section


def test_before_the_n_class_summary_per_class_metrics_come_from_the_class_slices(record):
    record.model.per_class, record.model.confusion_matrix = {}, None
    page = page_of(record)
    assert table(page, "per-class")[1:] == [["horses", "0.9667", "90"], ["humans", "0.957", "93"]]
    assert "Not available" in section_text(page, "evaluation")


def test_model_card_is_drawn_from_the_trainer_settings_and_the_measured_accuracy(record, trainer_settings):
    card = dict(table(page_of(record, trainer_settings=trainer_settings), "model-facts"))
    assert card["Cut layer"].startswith("mixed7")
    assert card["Head"].startswith("Flatten → Dense(1024, relu) → Dropout(0.2)")
    assert card["Class names"] == "0: horses, 1: humans"
    assert card["Training data"].startswith("732 images for training and 183 for evaluation from /data/horse-or-human")


def test_model_card_states_the_input_size_the_model_was_trained_at(record, trainer_settings):
    default = dict(table(page_of(record, trainer_settings=trainer_settings), "model-facts"))
    larger = page_of(record, trainer_settings=dict(trainer_settings, image_size=224))

    assert "150x150x3 input" in default["Base model"]
    assert "224x224x3 input" in dict(table(larger, "model-facts"))["Base model"]
    assert "resized to 224x224 RGB" in larger.text_content() and "150x150" not in larger.text_content()


def test_model_card_says_where_a_warm_started_head_came_from_or_why_it_did_not(record, trainer_settings):
    assert "Warm start" not in dict(table(page_of(record, trainer_settings=trainer_settings), "model-facts"))

    record.warm_start = WarmStartRecord(from_version=2)
    warm = dict(table(page_of(record, trainer_settings=trainer_settings), "model-facts"))["Warm start"]
    record.warm_start = WarmStartRecord(from_version=None, why_not="nothing is serving in /srv yet")
    cold = dict(table(page_of(record, trainer_settings=trainer_settings), "model-facts"))["Warm start"]

    assert "serving version 2" in warm
    assert "from scratch" in cold and "nothing is serving in /srv yet" in cold


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "a&b"])
def test_names_from_the_data_are_escaped_in_tables_and_charts(record, hostile):
    record.data.classes = ["horses", hostile]
    record.data.examples = {"train": {"horses": 3, hostile: 4}}
    html = render_report(build_report(record, RunArtifacts()))
    assert "<script" not in html
    assert lxml.html.fromstring(html).findall(".//script") == []


def test_epochs_without_eval_metrics_are_shown_with_dashes(record, tmp_path):
    # A data set whose every group went to train: Keras logs no val_* figures, and the page still renders.
    history = {"stages": [{"name": "head", "best_epoch": 1, "epochs": [{"epoch": 1, "loss": 0.7679, "accuracy": 0.5}]}]}
    (tmp_path / "training_history.json").write_text(json.dumps(history))

    page = page_of(record, model_run=str(tmp_path))

    [epochs] = page.find_class("epochs")
    assert [[td.text_content() for td in row.findall("td")] for row in epochs.findall(".//tr")[1:]] == [
        ["1", "0.7679", "0.5", "—", "—"]]


def test_data_over_time_shows_each_spans_images_the_drift_checks_and_the_kept_versions(record, tmp_path):
    from pipeline.run_record.record import DriftCheckRecord, DriftRecord, SpansRecord

    for version, spans, accuracy in ((1700000000, ["span-1"], 0.93), (1700000100, ["span-1", "span-3"], 0.88)):
        (tmp_path / str(version)).mkdir()
        (tmp_path / str(version) / "push_record.json").write_text(json.dumps(
            {"pushed_by": "pipeline", "pushed_at": "2026-12-04T04:00:00Z", "spans": spans, "eval_accuracy": accuracy}))
    record.serving_dir = str(tmp_path)
    record.spans = SpansRecord(window=["span-1", "span-3"], newest="span-3",
                               images={"span-1": {"horses": 8, "humans": 8}, "span-3": {"horses": 6, "humans": 0}})
    record.drift = DriftRecord(verdict="accepted", reference_version=1700000000, accepted_reason="hands now",
                               newest_span="span-3", seconds=3.5, checks=[
                                   DriftCheckRecord("missing_classes", 1.0, 0.0, "drift", detail="missing: humans"),
                                   DriftCheckRecord("content_mmd2", 0.19, 0.03, "drift", p_value=0.003)])
    page = page_of(record)

    assert table(page, "spans") == [["span", "horses", "humans"], ["span-1", "8", "8"], ["span-3 (newest)", "6", "0"]]
    assert table(page, "drift-checks")[1:] == [["missing_classes", "1", "0", "drift", "—", "missing: humans"],
                                              ["content_mmd2", "0.19", "0.03", "drift", "0.003", ""]]
    assert "Drift accepted: hands now" in section_text(page, "data-over-time")
    assert [row[3:] for row in table(page, "versions")[1:]] == [["span-1", "0.93"], ["span-1, span-3", "0.88"]]


def test_without_spans_or_the_drift_gate_the_section_says_so(record):
    text = section_text(page_of(record), "data-over-time")
    assert "a plain data dir" in text and "the drift gate did not run" in text
