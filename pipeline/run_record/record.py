"""The run record: OUTPUT/run_summary.json as one typed tree, the only place its keys are spelled.

Writers fill the fields (the local runner, the Kubeflow RunReport); readers (the console summary,
the report, the model card, benchmarks, tests) read them. The file carries its schema's version;
a summary written before the version existed (version 1: one flat mapping) still loads.
"""
from __future__ import annotations

import dataclasses
import json
import os
import typing
from typing import Any, Dict, List, Optional

SCHEMA_VERSION = 2
"""1: the flat mapping of earlier releases (no `schema_version` key). 2: this tree."""


@dataclasses.dataclass
class ComponentRun:
    """One component of the run as ML Metadata recorded it."""

    component: str
    state: str
    """ran, cached, failed, running or canceled (a component the run stopped when another failed beside it)."""
    seconds: Optional[float] = None


@dataclasses.dataclass
class ConfusionMatrix:
    classes: List[str]
    counts: List[List[int]]
    """counts[true][predicted], in the order of `classes`."""


@dataclasses.dataclass
class DataRecord:
    """What the data was, how it was split, and what was turned away."""

    source: Dict[str, Any] = dataclasses.field(default_factory=dict)
    """Where the images came from: `source` (given, cache, download, synthetic) and `data_dir`."""
    classes: List[str] = dataclasses.field(default_factory=list)
    examples: Dict[str, Dict[str, int]] = dataclasses.field(default_factory=dict)
    """{split: {class: images}}."""
    total_examples: Optional[int] = None
    groups_per_split: Optional[Dict[str, int]] = None
    groups_in_both_splits: List[str] = dataclasses.field(default_factory=list)
    ungrouped_files_per_split: Dict[str, int] = dataclasses.field(default_factory=dict)
    images_per_source_kind: Dict[str, Any] = dataclasses.field(default_factory=dict)
    rejected_files: List[Dict[str, str]] = dataclasses.field(default_factory=list)
    rejected_files_csv: Optional[str] = None
    converted_files: List[Dict[str, str]] = dataclasses.field(default_factory=list)
    warnings: List[str] = dataclasses.field(default_factory=list)
    anomalies: Optional[Dict[str, Any]] = None
    """{split: [anomaly text]} from the data gate; None where it did not run."""
    transform_graph: Optional[str] = None

    def images(self, split: str) -> int:
        return sum((self.examples.get(split) or {}).values())


@dataclasses.dataclass
class SpansRecord:
    """The spans of data a run read, in a data dir of spans (folders span-<N> or YYYY-MM-DD)."""

    window: List[str]
    """The spans read, oldest first."""
    newest: str
    images: Dict[str, Dict[str, int]] = dataclasses.field(default_factory=dict)
    """{span: {class: images read}}, every class in every span (0 where a span lacks it)."""


@dataclasses.dataclass
class WarmStartRecord:
    """Where the Trainer's head started, in a run with warm_start on (components/model/warm_start.py)."""

    from_version: Optional[int] = None
    """The serving version whose head the training started from; None: from scratch."""
    why_not: Optional[str] = None
    """Why not, when from scratch."""


@dataclasses.dataclass
class DriftCheckRecord:
    """One check of the drift gate (components/drift/statistics.py: DriftCheck)."""

    name: str
    statistic: Optional[float]
    """None where it could not be computed."""
    threshold: float
    verdict: str
    """ok or drift."""
    p_value: Optional[float] = None
    detail: str = ""


@dataclasses.dataclass
class DriftRecord:
    """The drift gate's comparison of the newest span with the serving model's training data
    (components/drift/executor.py: DriftReport)."""

    verdict: str
    """ok; drift (the run stopped before the Trainer); accepted (drift let through with a reason); no reference."""
    checks: List[DriftCheckRecord] = dataclasses.field(default_factory=list)
    reference_version: Optional[int] = None
    """The serving version whose drift_reference.json the span was compared with."""
    accepted_reason: Optional[str] = None
    seconds: Optional[float] = None
    """The gate's wall time."""
    alone_seconds: Optional[float] = None
    """Of its run's time, the seconds no other component ran beside the gate: what it added to the run
    (a local run's default runner and Kubeflow run it beside the data gate and Transform). None where unknown."""
    newest_span: Optional[str] = None
    why: str = ""
    """Why nothing was compared (no reference), or the checks beyond their thresholds."""

    @property
    def failed(self) -> List[DriftCheckRecord]:
        return [check for check in self.checks if check.verdict == "drift"]

    @property
    def added_seconds(self) -> Optional[float]:
        """What the gate added to its run's wall time: the seconds no other component ran beside it (at
        most its own seconds), or all its seconds where that is unknown; None where neither is known."""
        if self.alone_seconds is None:
            return self.seconds
        return self.alone_seconds if self.seconds is None else min(self.alone_seconds, self.seconds)


@dataclasses.dataclass
class ModelRecord:
    """The candidate model and what the Evaluator measured."""

    uri: Optional[str] = None
    metrics: Dict[str, Dict[str, Dict[str, float]]] = dataclasses.field(default_factory=dict)
    """{candidate or baseline: {slice (overall, class_name=horses): {metric: value}}}."""
    confusion_matrix: Optional[ConfusionMatrix] = None
    per_class: Dict[str, Dict[str, Any]] = dataclasses.field(default_factory=dict)
    """{class: precision, recall, examples, and recall_interval where the gate weighed noise}."""

    def overall(self, model: str = "candidate") -> Dict[str, float]:
        return (self.metrics.get(model) or {}).get("overall") or {}

    @property
    def accuracy(self) -> Optional[float]:
        """The candidate's eval accuracy (binary_accuracy for a model compiled with it)."""
        overall = self.overall()
        return overall.get("accuracy", overall.get("binary_accuracy"))


@dataclasses.dataclass
class GoldenRecord:
    """The golden set's judgement (setting golden_dir; components/promotion/golden_set.py): candidate and
    serving model on the fixed golden images, paired, under the same comparison policy."""

    examples: int
    verdict: str
    """passed, or refused (the blessing was taken back)."""
    candidate: Dict[str, Any] = dataclasses.field(default_factory=dict)
    """The candidate's golden accuracy: value, lower, upper (95%), method."""
    serving: Optional[Dict[str, Any]] = None
    """The serving model's, the same way; None with nothing serving."""
    change: Optional[Dict[str, Any]] = None
    """Candidate minus serving model on the same images: value, lower, upper, verdict."""
    refusals: List[str] = dataclasses.field(default_factory=list)
    warnings: List[str] = dataclasses.field(default_factory=list)

    def describe(self) -> str:
        """One line: 'passed: candidate 0.875 (0.53–0.98), serving 0.750 (...), change +0.125 (... within noise)'."""
        def accuracy(figure):
            return f"{figure['value']:.3f} ({figure['lower']:.3f}–{figure['upper']:.3f})"

        text = f"{self.verdict} on {self.examples} images: candidate {accuracy(self.candidate)}"
        if self.serving:
            text += f", serving model {accuracy(self.serving)}"
        if self.change and "lower" in self.change:
            text += (f", change {self.change['value']:+.3f} ({self.change['lower']:+.3f} to {self.change['upper']:+.3f}, "
                     f"{self.change['verdict']})")
        return text


@dataclasses.dataclass
class GateRecord:
    """What the gate compared against, how it weighed the noise, its answer, and what was pushed."""

    baseline: Optional[str] = None
    """The bar, in words (the serving version and where it is, or that there was none)."""
    noise: Optional[Dict[str, Any]] = None
    """The 95% intervals the gate weighed (components/promotion/noise_gate.py), its policy and warnings."""
    failures: List[str] = dataclasses.field(default_factory=list)
    blessed: Optional[bool] = None
    """None where the Evaluator did not run."""
    why: Optional[str] = None
    pushed: Optional[str] = None
    """The served version's folder, or `not pushed`; None where the Pusher did not run."""
    push_note: Optional[str] = None
    force_push_reason: Optional[str] = None
    golden: Optional[GoldenRecord] = None
    """None without a golden set (golden_dir unset) or where the Evaluator did not run."""

    @property
    def noise_warnings(self) -> List[str]:
        return (self.noise or {}).get("warnings", [])


@dataclasses.dataclass
class RunRecord:
    """One run: how it went, where it wrote, and what its data, model and gate came to."""

    status: str
    """running, succeeded, failed, interrupted (or what `report` says of a run killed before writing it)."""
    error: Optional[str] = None
    started: Optional[str] = None
    seconds: Optional[float] = None
    """The whole run's wall time."""
    pid: Optional[int] = None
    """The process of a run still going (status running)."""
    output_dir: Optional[str] = None
    pipeline_root: Optional[str] = None
    metadata: Optional[str] = None
    serving_dir: Optional[str] = None
    beam_args: Optional[List[str]] = None
    components: List[ComponentRun] = dataclasses.field(default_factory=list)
    planned_components: List[str] = dataclasses.field(default_factory=list)
    note: Optional[str] = None
    """Said by the orchestrator (on Kubeflow: where the component states are)."""
    record_error: Optional[str] = None
    """Why the artifacts could not be read back, where they could not."""
    report_path: Optional[str] = None
    data: DataRecord = dataclasses.field(default_factory=DataRecord)
    spans: Optional[SpansRecord] = None
    """None for a plain data dir (one folder per class) and for a summary written before spans existed."""
    drift: Optional[DriftRecord] = None
    """None where the drift gate did not run (drift_gate off, a run stopped before it, an older summary)."""
    model: ModelRecord = dataclasses.field(default_factory=ModelRecord)
    warm_start: Optional[WarmStartRecord] = None
    """None where warm_start was off."""
    gate: GateRecord = dataclasses.field(default_factory=GateRecord)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        values = dataclasses.asdict(self)
        if values["spans"] is None:
            del values["spans"]  # a plain data dir: no spans section at all
        if values["drift"] is None:
            del values["drift"]  # the drift gate did not run
        if values["gate"]["golden"] is None:
            del values["gate"]["golden"]  # no golden set
        if values["warm_start"] is None:
            del values["warm_start"]  # warm start off
        elif values["warm_start"]["from_version"] is not None:
            del values["warm_start"]["why_not"]
        return json.dumps(values, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "RunRecord":
        values = json.loads(text)
        if values.get("schema_version", 1) == 1:
            values = _from_version_1(values)
        return from_mapping(cls, values)

    def write(self, path: str) -> None:
        """Writes the record atomically: a reader never sees half a file."""
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(self.to_json())
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: str) -> "RunRecord":
        with open(path) as handle:
            return cls.from_json(handle.read())

    @property
    def stopped_at(self) -> Optional[str]:
        """Where a failed run stopped: the failed component, or after the last one that ended."""
        if self.status != "failed":
            return None
        failed = [row.component for row in self.components if row.state == "failed"]
        if failed:
            return failed[0]
        return f"after {self.components[-1].component}" if self.components else "before the first component"

    @property
    def not_reached(self) -> List[str]:
        ran = {row.component for row in self.components}
        return [name for name in self.planned_components if name not in ran]


def from_mapping(cls, values: Dict[str, Any]):
    """An instance of the dataclass `cls` from its JSON mapping, nested dataclasses included; keys a later
    release added are left out."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name in values:
            kwargs[field.name] = _typed(hints[field.name], values[field.name])
    return cls(**kwargs)


def _typed(hint, value):
    if value is None:
        return None
    target = next((a for a in typing.get_args(hint) if a is not type(None)), hint) if _is_optional(hint) else hint
    if dataclasses.is_dataclass(target):
        return from_mapping(target, value)
    if typing.get_origin(target) is list and dataclasses.is_dataclass(typing.get_args(target)[0]):
        return [from_mapping(typing.get_args(target)[0], item) for item in value]
    return value


def _is_optional(hint) -> bool:
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


# Version 1 wrote every fact at the top level; the tree groups them.
_V1_DATA = ("classes", "examples", "total_examples", "groups_per_split", "groups_in_both_splits",
            "ungrouped_files_per_split", "images_per_source_kind", "rejected_files", "rejected_files_csv",
            "converted_files", "warnings", "anomalies", "transform_graph")
_V1_MODEL = {"model": "uri", "metrics": "metrics", "confusion_matrix": "confusion_matrix", "per_class": "per_class"}
_V1_GATE = {"baseline": "baseline", "gate_noise": "noise", "blessing_failures": "failures", "blessed": "blessed",
            "blessed_why": "why", "pushed": "pushed", "push_note": "push_note", "force_push_reason": "force_push_reason"}
_V1_RUN = {"run_note": "note", "summary_error": "record_error"}


def _from_version_1(flat: Dict[str, Any]) -> Dict[str, Any]:
    """A version-1 summary (one flat mapping) as the tree's mapping."""
    tree = {_V1_RUN.get(key, key): value for key, value in flat.items()
            if key not in _V1_DATA and key not in _V1_MODEL and key not in _V1_GATE and key != "data"}
    tree["data"] = dict({key: flat[key] for key in _V1_DATA if flat.get(key) is not None}, source=flat.get("data") or {})
    tree["model"] = {new: flat[old] for old, new in _V1_MODEL.items() if flat.get(old) is not None}
    tree["gate"] = {new: flat[old] for old, new in _V1_GATE.items() if flat.get(old) is not None}
    tree["schema_version"] = SCHEMA_VERSION
    return tree
