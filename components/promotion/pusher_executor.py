"""SafePusher: TFX's Pusher, pushing only what the gate judged against the serving dir as it still is.

Before a push, under the serving dir's lock (components/serving/lock.py):
- the newest numbered folder must still be the one ServingBaseline saw
  (serving_baseline.json); if another run (or a rollback, or a hand copy)
  put a version there in between, the push is refused and the next run
  compares against that version;
- ServingBaseline's refusals (other class names, an unmanaged folder being
  served, a withdrawn model) hold unless force_push is set with a reason,
  which is then recorded in the version's push record;
- the version number is allocated above every numbered folder, the staged
  copy renamed into place, old versions pruned (never the bar of this run nor
  the current bar under baseline_policy) and orphaned staging folders cleaned.
The blessing is never overridden: force_push skips only what the gate cannot judge.
The push record also names the spans of data the model was trained on, read from
the ingested examples (their `span_window` property; none for a plain data dir), and the
drift gate's summary of that data (drift_reference.json) is kept beside it, so the next
run's DriftGate compares its newest span with what the served model saw.
"""
import json
import os
import socket

import tensorflow as tf
from absl import logging
from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, channel, standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter, ComponentSpec

from components import constants, node_ids
from components.drift.component import DriftReference
from components.drift.statistics import REFERENCE_FILE
from components.promotion import baseline_choice, noise_gate
from components.serving import publisher as version_publisher
from components.serving import versions as serving_versions
from components.promotion.baseline_choice import BaselineDecision
from components.promotion.evaluation_report import read_evaluation
from components.promotion.settings import PromotionSettings
from components.serving.lock import serving_lock

SERVING_BASELINE_KEY = "serving_baseline"
EVALUATION_KEY = "evaluation"
EXAMPLES_KEY = "examples"
DRIFT_REFERENCE_KEY = "drift_reference"
PUSH_NOTE = "push_note"
FORCE_PUSH_REASON = "force_push_reason"
# What the push record tells of the run that pushed, beside the promotion settings in the custom_config.
PROVENANCE = ("pipeline_name", "data_dir", "schema")
# First found wins: the gate's accuracy metric under the names TFMA gives it.
ACCURACY_METRICS = ("accuracy", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy")


def eval_accuracy(evaluation_uri: str):
    """(metric name, candidate's overall value) from the Evaluator's output, (None, None) if absent."""
    overall = read_evaluation(evaluation_uri)["models"].get("candidate", {}).get("overall", {})
    for name in ACCURACY_METRICS + tuple(sorted(k for k in overall if k.endswith("accuracy"))):
        if overall.get(name) is not None:
            return name, overall[name]
    return None, None


def trained_spans(examples_artifacts):
    """The window of spans the ingested examples hold, oldest first; None for a plain data dir or examples
    ingestion did not write (ready TFRecords)."""
    if not examples_artifacts:
        return None
    window = examples_artifacts[0].get_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY)
    return list(window) if window else None


def changed_since_lookup(decision: BaselineDecision, folders) -> str:
    """Why the serving dir is no longer what ServingBaseline compared against ("" when it is)."""
    newest = serving_versions.served_folder(folders)
    now = None if newest is None else newest.version
    if now == decision.serving_version:
        return ""
    seen = "an empty serving dir" if decision.serving_version is None else f"version {decision.serving_version}"
    if newest is None:
        return f"the serving dir was emptied after this run's ServingBaseline saw {seen}; the next run starts afresh"
    how = "another run pushed" if newest.managed and newest.record.get("pushed_by") != "rollback" else (
        "a rollback published" if newest.managed else "someone copied in")
    return (
        f"{how} version {now} in between (this run's ServingBaseline compared against {seen}); "
        f"the next run compares against version {now}"
    )


class SafePusherExecutor(tfx_pusher.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        config = json.loads(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY])
        settings = PromotionSettings.from_dict(config)
        serving_dir, force_reason = settings.serving_dir, settings.force_reason
        decision = BaselineDecision.read(artifact_utils.get_single_instance(input_dict[SERVING_BASELINE_KEY]).uri)

        def not_pushed(why: str) -> None:
            self._MarkNotPushed(model_push)
            model_push.set_string_custom_property(PUSH_NOTE, f"not pushed: {why}")
            logging.info("not pushed: %s", why)

        if not self.CheckBlessing(input_dict):
            return not_pushed("the model was not blessed")
        if decision.refusal and not force_reason:
            return not_pushed(decision.refusal)
        changed = changed_since_lookup(decision, serving_versions.scan(serving_dir))
        if changed:
            return not_pushed(changed)  # cheap early answer; checked again under the lock

        model_dir = self.GetModelPath(input_dict)
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        record = {
            "pushed_by": "pipeline",
            "pipeline_name": config["pipeline_name"],
            "model_artifact_uri": model.uri,
            "model_artifact_id": model.id,
            "fingerprint": serving_versions.model_fingerprint(model_dir),
            "class_names": decision.candidate_class_names,
            "data_dir": config["data_dir"],
            "schema": config["schema"],
            serving_versions.SPANS: trained_spans(input_dict.get(EXAMPLES_KEY)),
            "compared_with": decision.baseline_version,
            "baseline_policy": decision.policy,
            "host": socket.gethostname(),
        }
        evaluations = input_dict.get(EVALUATION_KEY)
        if evaluations:
            record["eval_metric"], record["eval_accuracy"] = eval_accuracy(evaluations[0].uri)
            # Each gated figure with its 95% interval and the images behind it (noise_gate.py).
            record["eval_figures"] = {
                check["slice"]: {key: check[key] for key in ("value", "lower", "upper", "examples")}
                for check in (noise_gate.read_record(evaluations[0].uri) or {}).get("checks", [])
            }
        if force_reason:
            record.update(force_push_reason=force_reason, force_push_overrode=decision.refusal or "nothing (the gate judged it)")

        staging = version_publisher.stage_model(model_dir, serving_dir)
        try:
            references = input_dict.get(DRIFT_REFERENCE_KEY)
            if references:  # the data the model was trained on, summarised by the DriftGate
                tf.io.gfile.copy(os.path.join(references[0].uri, REFERENCE_FILE), os.path.join(staging, REFERENCE_FILE))
            with serving_lock(serving_dir, node_ids.PUSHER):
                folders = serving_versions.scan(serving_dir)
                changed = changed_since_lookup(decision, folders)
                served = serving_versions.served_folder(folders)
                if changed:
                    return not_pushed(changed)
                if served is not None and served.fingerprint == record["fingerprint"]:
                    return not_pushed(f"already serving as version {served.version}")
                pushed = version_publisher.publish_staged(staging, serving_dir, record)
                bar = baseline_choice.reference_version(serving_versions.scan(serving_dir), decision.policy)
                pruned = version_publisher.prune_versions(
                    serving_dir, settings.keep_versions, protect=(decision.baseline_version, bar.version if bar else None)
                )
                cleaned = version_publisher.clean_orphaned_staging(serving_dir)
        finally:
            version_publisher.discard_staging(staging)  # gone already when renamed into place
        self._MarkPushed(model_push, pushed_destination=pushed.path, pushed_version=str(pushed.version))
        forced = f" (forced: {force_reason})" if force_reason else ""
        model_push.set_string_custom_property(PUSH_NOTE, f"pushed to {pushed.path}{forced}")
        model_push.set_string_custom_property(FORCE_PUSH_REASON, force_reason)
        logging.info("pushed %s; pruned old versions %s; removed orphaned staging %s", pushed.path, pruned, cleaned)


class SafePusherSpec(ComponentSpec):
    """TFX's PusherSpec plus ServingBaseline's decision, the evaluation, the ingested examples (for the
    push record) and the DriftGate's reference statistics (kept beside it)."""

    PARAMETERS = standard_component_specs.PusherSpec.PARAMETERS
    INPUTS = dict(
        standard_component_specs.PusherSpec.INPUTS,
        **{
            SERVING_BASELINE_KEY: ChannelParameter(type=standard_artifacts.Model),
            EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
            EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
            DRIFT_REFERENCE_KEY: ChannelParameter(type=DriftReference, optional=True),
        },
    )
    OUTPUTS = standard_component_specs.PusherSpec.OUTPUTS
    TYPE_ANNOTATION = standard_component_specs.PusherSpec.TYPE_ANNOTATION


class SafePusher(base_component.BaseComponent):
    """Pushes the blessed model into a TF Serving model dir, run by SafePusherExecutor."""

    SPEC_CLASS = SafePusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(SafePusherExecutor)

    def __init__(self, model, model_blessing, serving_baseline, evaluation, settings: PromotionSettings, provenance: dict,
                 examples=None, drift_reference=None):
        """settings: the promotion settings, serving_dir resolved; provenance: the PROVENANCE of the run,
        recorded with each pushed version. Both travel as the custom_config. examples: the ingested examples,
        whose window of spans the push record names. drift_reference: the DriftGate's summary of that
        window, kept beside the push record (none with drift_gate off)."""
        if sorted(provenance) != sorted(PROVENANCE):
            raise ValueError(f"provenance must hold {', '.join(PROVENANCE)}, got {', '.join(sorted(provenance))}")
        destination = pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=settings.serving_dir))
        super().__init__(
            spec=SafePusherSpec(
                model=model,
                model_blessing=model_blessing,
                serving_baseline=serving_baseline,
                evaluation=evaluation,
                examples=examples,
                drift_reference=drift_reference,
                push_destination=destination,
                custom_config=json.dumps(dict(settings.to_dict(), **provenance), sort_keys=True),
                pushed_model=channel.Channel(type=standard_artifacts.PushedModel),
            )
        )

