"""OUTPUT/report.html from whole runs on real components: a blessed run, a refused candidate, a run that stops
part-way; `transfer-pipeline report` regenerates it, and the Kubeflow RunReport component writes the same page."""
import json
import os
import re
import shutil
import subprocess
import sys

import lxml.html
import pytest

from components.ingestion.synthetic_images import write_synthetic_images
from pipeline.config import DEFAULT_SCHEMA_DIR
from pipeline.report.component import report_page
from pipeline.run_record.artifacts import collect_executions
from pipeline_runs import run_cli, run_pipeline

pytestmark = pytest.mark.e2e

SECTIONS = ("headline", "run", "data", "training", "evaluation", "gate", "model-card")






def page(path):
    with open(path, encoding="utf-8") as handle:
        return lxml.html.fromstring(handle.read())


def rows(document, table_id):
    return [[" ".join(c.text_content().split()) for c in r if c.tag == "td"] for r in document.get_element_by_id(table_id).findall(".//tr")[1:]]


def gate_rows_match_the_summary(document, summary):
    checks = rows(document, "gate-checks")
    assert checks, "no gate checks listed"
    intervals = {check["slice"]: check for check in summary.gate.noise["checks"]}
    for slice_name, metric, kind, threshold, measured, interval, result in checks:
        if kind == "value":
            assert float(measured) == pytest.approx(summary.model.metrics["candidate"][slice_name][metric], abs=1e-4)
            figure = intervals[slice_name]  # the same 95% interval and image count as the summary's
            assert interval == f"{figure['lower']:.3f}–{figure['upper']:.3f} ({figure['examples']} images)"
    return checks


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("report-runs")


@pytest.fixture(scope="module")
def sample(real_image_folder_factory, horse_or_human_dir):
    folder = real_image_folder_factory()
    shutil.copy(horse_or_human_dir / "README.md", folder)  # the data set's own note: source and licence
    return folder


@pytest.fixture(scope="module")
def blessed_run(sample, workspace):
    # Threshold 0: on a handful of images one epoch proves nothing; this run must be blessed and pushed.
    return run_pipeline(sample, workspace, "--epochs", "1", "--accuracy-threshold", "0")


@pytest.fixture(scope="module")
def refused_run(blessed_run, sample, workspace, tmp_path_factory):
    # The untrained head (0 epochs) against an accuracy threshold of 1.0 and the blessed model serving.
    # The sample's eval split is two images, one per class: a random head is right on both about one
    # time in four (the default seed's is, since the head is seeded after the base). Seed 7's is wrong on
    # both (P(humans) 0.615 for the horse, 0.405 for the human), so the gallery has mistakes to show.
    settings = tmp_path_factory.mktemp("refused") / "settings.yaml"
    settings.write_text("seed: 7\n")
    return run_pipeline(sample, workspace, "--epochs", "0", "--accuracy-threshold", "1.0", "--config", str(settings))


@pytest.mark.smoke
def test_a_blessed_run_prints_its_report_and_shows_every_section(blessed_run, workspace):
    summary, result = blessed_run
    assert result.returncode == 0, result.stderr[-3000:]
    report = workspace / "report.html"
    assert f"report: {report}" in result.stdout
    document = page(report)
    for section in SECTIONS:
        assert document.get_element_by_id(section) is not None, section
    counts = rows(document, "examples")
    assert {r[0]: int(r[-2]) for r in counts} == {s: sum(c.values()) for s, c in summary.data.examples.items()}
    charts = {svg.get("aria-label") for svg in document.iter("svg")}
    assert {"images per class and split", "image sizes per split", "head loss per epoch", "confusion matrix"} <= charts
    assert document.get_element_by_id("gallery") is not None or "0 of" in document.text_content()
    matrix = [int(c.text_content()) for c in document.get_element_by_id("confusion-matrix").find_class("cell")]
    assert sum(matrix) == sum(summary.data.examples["eval"].values())
    gate_rows_match_the_summary(document, summary)
    verdict = document.get_element_by_id("verdict").text_content()
    assert "Blessed: yes" in verdict and os.path.basename(summary.gate.pushed) in verdict
    card = {r.find("th").text_content(): r.find("td").text_content() for r in document.get_element_by_id("model-facts").findall(".//tr")}
    assert card["Cut layer"].startswith("mixed7") and card["Class names"] == "0: horses, 1: humans"
    assert card["Data licence"].startswith("README.md: ") and "CC BY 2.0" in card["Data licence"]
    assert "epoch(s)" in card["Training"] and "?" not in card["Training"]
    epochs = document.find_class("epochs")
    assert len(epochs) == 1 and len(epochs[0].findall(".//tr")) == 2  # one stage, one epoch


def test_a_refused_candidate_report_names_the_failed_checks(refused_run, workspace, chromium):
    summary, result = refused_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary.gate.blessed is False
    document = page(workspace / "report.html")
    checks = gate_rows_match_the_summary(document, summary)
    assert any(r[6] == "FAIL" and r[3] == "≥ 1" for r in checks)  # columns: ..., measured, 95% interval, result
    assert "Blessed: no" in document.get_element_by_id("verdict").text_content()
    assert "not reached" not in document.get_element_by_id("components").text_content()
    assert "Not available: no epoch was trained" in document.text_content()  # --epochs 0
    # The gallery is the Evaluator's own mistakes: as many as its confusion matrix has off the diagonal.
    counts = summary.model.confusion_matrix.counts
    wrong = sum(counts[t][p] for t in range(len(counts)) for p in range(len(counts)) if t != p)
    assert wrong > 0 and f"{wrong} of {sum(map(sum, counts))} eval images misclassified" in document.text_content()
    figures = document.get_element_by_id("gallery").findall(".//figure")
    assert 0 < len(figures) <= min(wrong, 24)
    confidence = []
    for figure in figures:
        caption = figure.find("figcaption").text_content()
        file_path = figure.find(".//strong").text_content()
        true_class = caption.split("true: ")[1].split("predicted: ")[0].strip()
        predicted = caption.split("predicted: ")[1].split("P(")[0].strip()
        assert file_path.startswith(true_class + "/") and predicted != true_class, caption
        assert figure.find("img").get("src").startswith("data:image/jpeg;base64,")
        confidence.append(float(re.match(r"[0-9.]+", caption.split(f"P({predicted}) = ")[1]).group()))
    assert confidence == sorted(confidence, reverse=True)  # most confidently wrong first

    dom, screenshot, console = chromium(workspace / "report.html", height=1400)
    assert console == [] and "gate-checks" in dom and os.path.getsize(screenshot) > 20_000


def test_report_command_regenerates_the_page_from_ml_metadata(refused_run, workspace):
    summary, _ = refused_run
    before = page(workspace / "report.html")
    os.remove(workspace / "report.html")

    result = run_cli("report", str(workspace))

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == str(workspace / "report.html")
    after = page(workspace / "report.html")
    for table_id in ("examples", "gate-checks", "metrics", "model-facts"):
        assert rows(after, table_id) == rows(before, table_id), table_id


def test_the_kubeflow_component_writes_the_same_report_as_one_file_at_its_uri(refused_run, workspace, tmp_path):
    summary, _ = refused_run
    outputs = {}
    for row in collect_executions(str(workspace / "metadata.sqlite"), "transfer-pipeline"):
        for key, artifacts in row["outputs"].items():
            outputs.setdefault(key, artifacts[0])
    uri = tmp_path / "RunReport" / "report"
    uri.mkdir(parents=True)  # as KFP's launcher (and pipeline/kubeflow/entrypoint.py) leaves an output

    report_page(outputs, {"cut_layer": "mixed7", "epochs": 0}, str(uri))

    assert uri.is_file()
    component_page, local_page = page(uri), page(workspace / "report.html")
    for table_id in ("examples", "gate-checks", "metrics"):
        assert rows(component_page, table_id) == rows(local_page, table_id), table_id


def test_a_run_that_stops_part_way_still_writes_a_report_saying_where(tmp_path_factory, tmp_path):
    shapes = write_synthetic_images(str(tmp_path_factory.mktemp("shapes")), subjects=4, views=2, size=64)
    wrong_schema = os.path.join(DEFAULT_SCHEMA_DIR, "horse_or_human", "schema.pbtxt")

    summary, result = run_pipeline(shapes, tmp_path, "--schema", wrong_schema)

    assert result.returncode == 1 and summary.status == "failed"
    assert f"report: {tmp_path / 'report.html'}" in result.stderr
    document = page(tmp_path / "report.html")
    assert "Stopped at DataValidationGate." in document.get_element_by_id("stopped").text_content()
    states = {r[0]: r[1] for r in rows(document, "components")}
    assert states["DataValidationGate"] == "failed" and states["Trainer"] == "not reached" and states["Pusher"] == "not reached"
    assert states["DriftGate"] == "canceled"  # beside the data gate, stopped when it failed
    console = result.stdout + result.stderr
    assert "DataValidationGate FAILED" in console and "DriftGate canceled" in console, console
    assert "class_name" in document.get_element_by_id("anomalies").text_content()
    assert "Not available" in document.get_element_by_id("training").getnext().text_content()
