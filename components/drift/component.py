"""DriftGate: stops the pipeline before the Trainer when the newest span drifted from the data the serving
model was trained on (executor.py decides).

It runs once ExampleValidator has looked at the data, beside DataValidationGate (pipeline/pipeline.py: an
upstream node, no artifact), and the Trainer has the gate as an upstream node too, so the Trainer cannot
start before both gates have passed; no artifact of the gate feeds the Trainer, whose cache key would
otherwise change every time the gate runs again (whenever the serving dir changes). Drift is accepted by
accepted_reason alone, non-empty when accepted: DriftSettings' accept_drift locally (pipeline/pipeline.py),
the run parameter accept_drift_reason on Kubeflow (pipeline/kubeflow/compiler.py), so one Kubeflow run is
accepted, never every run of a spec. Its outputs: the drift report (executor.REPORT_FILE: the checks, the
verdict, the reference version, an accepted reason) and the window's statistics (statistics.REFERENCE_FILE),
which the Pusher keeps beside the push record of the model it pushes.
"""
import json

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts
from tfx.types.experimental import simple_artifacts

from components import constants, node_ids
from components.drift.settings import DriftSettings
from components.model.settings import TrainerSettings
from components.serving.lock import serving_lock

# The TrainerSettings that make the frozen base the features come from (features.py): only these key the
# gate's cache, so a change of epochs does not summarise the data again.
FEATURE_BASE_FIELDS = ("weights", "weights_cache_dir", "cut_layer", "image_size")


def feature_base(training: TrainerSettings) -> str:
    """The gate's feature_base parameter: FEATURE_BASE_FIELDS of the run's training settings, as JSON."""
    return json.dumps({name: getattr(training, name) for name in FEATURE_BASE_FIELDS}, sort_keys=True)


# DriftSettings' acceptance, which the gate takes as accepted_reason instead: kept out of drift_settings, so
# the two can never disagree.
ACCEPTANCE_FIELDS = ("accept_drift", "accept_drift_reason")


def drift_settings_json(drift: DriftSettings) -> str:
    """The gate's drift_settings parameter: the group as JSON, less ACCEPTANCE_FIELDS."""
    return json.dumps({k: v for k, v in drift.to_dict().items() if k not in ACCEPTANCE_FIELDS}, sort_keys=True)


# The outputs' types: TFX's own simple types, which its Kubeflow compiler and entrypoint know (a type of
# our own would need a title of one module and one class name, and an import path to match).
DriftReport = simple_artifacts.Metrics  # drift_report.json: the gate's checks and verdict
DriftReference = simple_artifacts.Statistics  # drift_reference.json: a window's ReferenceStatistics


@component
def DriftGate(
    examples: InputArtifact[standard_artifacts.Examples],
    drift_report: OutputArtifact[DriftReport],
    drift_reference: OutputArtifact[DriftReference],
    serving_dir: Parameter[str],
    drift_settings: Parameter[str],
    feature_base: Parameter[str],
    serving_state: Parameter[str] = "",
    accepted_reason: Parameter[str] = "",
) -> None:
    """serving_dir is PromotionSettings'; drift_settings DriftSettings as JSON (drift_settings_json(): the
    thresholds, without the acceptance) and feature_base the base's training settings (feature_base()),
    handed on by pipeline/pipeline.py; serving_state keys the cache; accepted_reason, when not empty, lets
    a drifted span through and is recorded in the report."""
    from components.drift.executor import run_gate, serving_reference
    from components.drift.features import PooledFeatureExtractor

    del serving_state  # a new push means a new reference
    settings = DriftSettings.from_dict(json.loads(drift_settings))
    training = TrainerSettings.from_dict(json.loads(feature_base))
    with serving_lock(serving_dir, node_ids.DRIFT_GATE):  # no Pusher prunes the version read meanwhile
        reference = serving_reference(serving_dir)
    run_gate(
        # The golden set is no span of the window: it is judged by the Evaluator, never compared here.
        examples.uri, [s for s in artifact_utils.decode_split_names(examples.split_names) if s != constants.GOLDEN_SPLIT],
        examples.get_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY)
        if examples.has_custom_property(constants.SPAN_WINDOW_PROPERTY) else None,
        reference, settings, lambda: PooledFeatureExtractor(training), drift_report.uri, drift_reference.uri,
        accepted_reason=accepted_reason)
