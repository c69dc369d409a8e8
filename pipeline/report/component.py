"""RunReport: the run report as a component at the end of the DAG, so Kubeflow Pipelines shows it in the run's UI.

Its output artifact's type is named system.HTML: TFX's Kubeflow compiler
writes a custom type's name as the schema title, KFP's launcher records that
title as the artifact's type in ML Metadata, and the KFP UI renders an
artifact of type system.HTML by reading its URI as one HTML file
(frontend MetricsVisualizations: getHtmlViewerConfig). So the page is
written at the URI itself, not inside it.
"""

import json
import os

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact, standard_artifacts

from pipeline.report.builder import RunArtifacts, build_report
from pipeline.report.render import render_report
from components.drift.component import DriftReport
from pipeline.run_record.artifacts import read_data, read_drift, read_model_and_gate, read_spans
from pipeline.run_record.record import RunRecord

ORCHESTRATOR_NOTE = "Kubeflow Pipelines: component states and times are in the run's graph"


class HtmlPage(artifact.Artifact):
    """One self-contained HTML file at the artifact's URI."""

    TYPE_NAME = "system.HTML"


def report_page(inputs: dict, trainer_settings: dict, path: str) -> str:
    """Writes the report of the artifacts in `inputs` ({output key: ML Metadata Artifact}) to the file `path`."""
    rows = [{"component": key, "state": "ran", "outputs": {key: [a]}} for key, a in inputs.items()]
    data = read_data(rows)
    model, gate = read_model_and_gate(rows, data.classes)
    record = RunRecord(status="succeeded", note=ORCHESTRATOR_NOTE, data=data, model=model, gate=gate,
                       spans=read_spans(rows), drift=read_drift(rows))
    artifacts = RunArtifacts(
        examples=inputs["examples"].uri,
        model=inputs["model"].uri,
        model_run=inputs["model_run"].uri,
        evaluation=inputs["evaluation"].uri,
        trainer_settings=trainer_settings,
    )
    html = render_report(build_report(record, artifacts))
    if os.path.isdir(path):  # the launcher made the output a folder; the UI wants a file at the URI
        os.rmdir(path)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(html)
    return path


@component
def RunReport(
    examples: InputArtifact[standard_artifacts.Examples],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    model: InputArtifact[standard_artifacts.Model],
    model_run: InputArtifact[standard_artifacts.ModelRun],
    baseline_model: InputArtifact[standard_artifacts.Model],
    evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
    blessing: InputArtifact[standard_artifacts.ModelBlessing],
    pushed_model: InputArtifact[standard_artifacts.PushedModel],
    report: OutputArtifact[HtmlPage],
    trainer_settings: Parameter[str] = "{}",
    drift_report: InputArtifact[DriftReport] = None,
) -> None:
    """drift_report: the DriftGate's, for the report's Data over time (none with drift_gate off)."""
    inputs = {
        "examples": examples, "anomalies": anomalies, "model": model, "model_run": model_run,
        "baseline_model": baseline_model, "evaluation": evaluation, "blessing": blessing, "pushed_model": pushed_model,
    }
    if drift_report is not None:
        inputs["drift_report"] = drift_report
    report_page({key: a.mlmd_artifact for key, a in inputs.items()}, json.loads(trainer_settings), report.uri)
