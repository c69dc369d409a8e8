"""ServingBaseline: the model to beat is the one serving now.

A component of ours, not a TFX Resolver node: resolvers run inside the
orchestrator, and open-source Kubeflow Pipelines does not execute the ones
TFX compiles, so the same lookup runs locally and on a cluster. When nothing
is serving, or the candidate IS the serving model (an unchanged re-run), the
artifact is marked has_baseline=0 and the Evaluator judges the candidate on
the absolute thresholds alone: it never compares a model with itself.
"""
import os

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components.promotion import serving_versions

HAS_BASELINE = "has_baseline"
BASELINE_VERSION = "baseline_version"
BASELINE_NOTE = "baseline_note"


@component
def ServingBaseline(
    model: InputArtifact[standard_artifacts.Model],
    baseline_model: OutputArtifact[standard_artifacts.Model],
    serving_dir: Parameter[str],
    serving_state: Parameter[str] = "",
) -> None:
    del serving_state  # only keys the cache: a new push means a new lookup
    version = serving_versions.latest_version(serving_dir)
    if version is None:
        baseline_model.set_int_custom_property(HAS_BASELINE, 0)
        baseline_model.set_string_custom_property(BASELINE_NOTE, f"nothing is serving in {serving_dir} yet")
        return
    record = serving_versions.read_push_record(serving_dir, version)
    candidate = serving_versions.model_fingerprint(path_utils.serving_model_path(model.uri))
    baseline_model.set_int_custom_property(BASELINE_VERSION, version)
    if record["fingerprint"] == candidate:
        baseline_model.set_int_custom_property(HAS_BASELINE, 0)
        baseline_model.set_string_custom_property(
            BASELINE_NOTE, f"the candidate is the model already serving as version {version}"
        )
        return
    destination = os.path.join(baseline_model.uri, "Format-Serving")
    serving_versions.copy_tree(os.path.join(serving_dir, str(version)), destination)
    baseline_model.set_int_custom_property(HAS_BASELINE, 1)
    baseline_model.set_string_custom_property(BASELINE_NOTE, f"serving version {version} from {serving_dir}")
