"""ServingBaseline: the model to beat is one the serving dir keeps (baseline_choice.py says which).

A component of ours, not a TFX Resolver node: resolvers run inside the
orchestrator, and open-source Kubeflow Pipelines does not execute the ones
TFX compiles, so the same lookup runs locally and on a cluster.

Its output always holds serving_baseline.json, the decision (which version
served, which one is the bar, class names on both sides, any refusal), so
KFP's launcher always has something to store and the Pusher can check,
under the lock, that the serving dir is still what was compared against.
When there is a bar, its model is copied next to it (Format-Serving) for the
Evaluator; otherwise the artifact is marked has_baseline=0 and the Evaluator
judges the candidate on the absolute thresholds alone: it never compares a
model with itself, nor with a model of other classes.
"""
import os

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import io_utils, path_utils
from tensorflow_metadata.proto.v0 import schema_pb2

from components import node_ids
from components.promotion import baseline_choice
from components.serving import versions as serving_versions
from components.serving.lock import serving_lock
from components.schema_contract import class_names_of

HAS_BASELINE = "has_baseline"
BASELINE_VERSION = "baseline_version"
SERVING_VERSION = "serving_version"
BASELINE_NOTE = "baseline_note"
REFUSAL = "refusal"
# How the Evaluator weighs a change against this bar (noise_gate.py: POLICIES); carried here because
# TFX's Evaluator takes no parameter of ours.
COMPARISON_POLICY = "comparison_policy"


def candidate_class_names(schema_uri: str) -> list:
    """The class names in label order: the class vocabulary of the curated schema the model was trained on."""
    schema_file = io_utils.get_only_uri_in_dir(schema_uri)
    return class_names_of(io_utils.parse_pbtxt_file(schema_file, schema_pb2.Schema()))


@component
def ServingBaseline(
    model: InputArtifact[standard_artifacts.Model],
    schema: InputArtifact[standard_artifacts.Schema],
    baseline_model: OutputArtifact[standard_artifacts.Model],
    serving_dir: Parameter[str],
    baseline_policy: Parameter[str],
    comparison_policy: Parameter[str],
    serving_state: Parameter[str] = "",
) -> None:
    """serving_dir and the two policies are PromotionSettings' (settings.py), handed on by pipeline/pipeline.py."""
    del serving_state  # only keys the cache: a new push means a new lookup
    fingerprint = serving_versions.model_fingerprint(path_utils.serving_model_path(model.uri))
    class_names = candidate_class_names(schema.uri)
    # Under the lock: no Pusher prunes or renames while the bar is read and copied.
    with serving_lock(serving_dir, node_ids.SERVING_BASELINE):
        folders = serving_versions.scan(serving_dir)
        decision = baseline_choice.decide(serving_dir, folders, fingerprint, class_names, baseline_policy)
        if decision.has_baseline:
            bar = os.path.join(serving_dir, str(decision.baseline_version))
            serving_versions.copy_tree(bar, os.path.join(baseline_model.uri, "Format-Serving"))
    decision.write(baseline_model.uri)
    baseline_model.set_int_custom_property(HAS_BASELINE, int(decision.has_baseline))
    baseline_model.set_string_custom_property(SERVING_VERSION, decision.serving_version_text)
    if decision.has_baseline:
        baseline_model.set_int_custom_property(BASELINE_VERSION, decision.baseline_version)
    baseline_model.set_string_custom_property(BASELINE_NOTE, decision.note)
    baseline_model.set_string_custom_property(REFUSAL, decision.refusal)
    baseline_model.set_string_custom_property(COMPARISON_POLICY, comparison_policy)

