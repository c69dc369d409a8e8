"""Which kept version a candidate must beat, and when no comparison is possible at all.

Pure functions over a scan of the serving dir (serving_versions.scan), so
every rule can be tested without a pipeline:

- Label contract: a candidate is only ever compared with, or pushed over, a
  model with the same class names in the same label order. Anything else is a
  refusal, never a metric-to-metric comparison.
- A numbered folder the pipeline did not push (no push_record.json) that TF
  Serving would serve (the highest number) is a refusal: the gate cannot tell
  what it is. Lower unmanaged folders are named in the note (not served).
- Drift guard (baseline_policy): `latest` compares with the version serving
  now; `best_kept` with the kept version of the same classes whose recorded
  eval accuracy is highest, so a chain of small, individually tolerated
  losses cannot walk accuracy down.
- A rollback withdraws the versions it rolled back over: they are never the
  bar again, and the same model is not pushed again by the gate.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import List, Optional

from components.serving.versions import ServingFolder, withdrawn_versions

POLICIES = ("latest", "best_kept")
DECISION_FILE = "serving_baseline.json"
FORCE_HINT = "pass --force-push --reason TEXT to replace it deliberately"


@dataclasses.dataclass
class BaselineDecision:
    """What ServingBaseline saw and decided; the Pusher re-checks it under the lock before pushing."""

    serving_dir: str
    policy: str
    candidate_class_names: List[str]
    # The highest numbered folder at lookup (what TF Serving served); None: the dir was empty.
    serving_version: Optional[int] = None
    serving_class_names: Optional[List[str]] = None
    # The version the candidate is compared with; None: judged on the absolute thresholds alone.
    baseline_version: Optional[int] = None
    note: str = ""
    # Why no push may follow whatever the metrics say ("" when none).
    refusal: str = ""

    @property
    def has_baseline(self) -> bool:
        return self.baseline_version is not None

    @property
    def serving_version_text(self) -> str:
        return "empty" if self.serving_version is None else str(self.serving_version)

    def to_dict(self) -> dict:
        return dict(dataclasses.asdict(self), has_baseline=self.has_baseline)

    def write(self, folder: str) -> str:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, DECISION_FILE)
        with open(path, "w") as handle:
            json.dump(self.to_dict(), handle, indent=2)
        return path

    @classmethod
    def read(cls, folder: str) -> "BaselineDecision":
        with open(os.path.join(folder, DECISION_FILE)) as handle:
            values = json.load(handle)
        return cls(**{field.name: values.get(field.name) for field in dataclasses.fields(cls) if field.name in values})


def reference_version(folders: List[ServingFolder], policy: str) -> Optional[ServingFolder]:
    """The bar under `policy` among versions of the served model's classes that no rollback withdrew."""
    served = folders[-1] if folders else None
    if served is None or not served.managed:
        return None
    withdrawn = withdrawn_versions(folders)
    kept = [f for f in folders if f.managed and f.class_names == served.class_names and f.version not in withdrawn]
    if policy == "best_kept":
        measured = [f for f in kept if isinstance(f.record.get("eval_accuracy"), (int, float))]
        if measured:
            return max(measured, key=lambda f: (f.record["eval_accuracy"], f.version))
    return kept[-1] if kept else served


def _names(class_names) -> str:
    return "[" + ", ".join(class_names) + "]"


def decide(
    serving_dir: str,
    folders: List[ServingFolder],
    candidate_fingerprint: str,
    candidate_class_names: List[str],
    policy: str,
) -> BaselineDecision:
    decision = BaselineDecision(serving_dir, policy, list(candidate_class_names))
    if not folders:
        decision.note = f"nothing is serving in {serving_dir} yet"
        return decision
    served = folders[-1]
    decision.serving_version, decision.serving_class_names = served.version, served.class_names
    ignored = [f.path for f in folders[:-1] if not f.managed]
    suffix = f"; ignored, not served: {', '.join(ignored)} (no push record)" if ignored else ""
    withdrawn = {f.fingerprint for f in folders if f.version in withdrawn_versions(folders)}
    if not served.managed:
        decision.refusal = (
            f"{served.path} has no push_record.json: it was not pushed by this pipeline (copied by hand, or half-copied), "
            f"yet TF Serving serves it as the highest version, so the gate cannot tell what serves; move it out of "
            f"{serving_dir}, or {FORCE_HINT}"
        )
    elif not served.class_names:
        decision.refusal = (
            f"serving version {served.version} records no class names (pushed before the label contract), so the "
            f"candidate's {_names(candidate_class_names)} cannot be checked against it; {FORCE_HINT}"
        )
    elif served.class_names != list(candidate_class_names):
        decision.refusal = (
            f"label set differs: serving version {served.version} predicts {_names(served.class_names)}, the candidate "
            f"{_names(candidate_class_names)} (in label order); a model of other classes is neither compared metric to "
            f"metric nor pushed over it; push to another --serving-dir, or {FORCE_HINT}"
        )
    elif candidate_fingerprint == served.fingerprint:
        decision.note = f"the candidate is the model already serving as version {served.version}"
    elif candidate_fingerprint in withdrawn:
        decision.refusal = (
            f"the candidate is a model a rollback withdrew from {serving_dir} (see `transfer-pipeline serving list`); "
            f"change the data or the training settings, or {FORCE_HINT}"
        )
    else:
        bar = reference_version(folders, policy)
        if bar.fingerprint == candidate_fingerprint:
            decision.note = f"the candidate is version {bar.version}, the best kept model; version {served.version} serves"
        elif bar.version == served.version:
            decision.baseline_version = bar.version
            decision.note = f"serving version {served.version} from {serving_dir}"
        else:
            decision.baseline_version = bar.version
            decision.note = (
                f"best kept version {bar.version} (eval accuracy {bar.record.get('eval_accuracy')}) from {serving_dir}; "
                f"version {served.version} serves"
            )
    if decision.refusal:
        decision.note = f"no comparison: {decision.refusal}"
    decision.note += suffix
    return decision
