"""Pusher executor: pushes blessed models atomically, never a duplicate, and prunes old versions."""
import json

from absl import logging
from tfx.components import Pusher
from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils, standard_component_specs

from components.promotion import serving_versions

PUSH_NOTE = "push_note"


class SafePusherExecutor(tfx_pusher.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        config = json.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "{}")
        serving_dir, keep = config["serving_dir"], int(config.get("keep_versions", 3))
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            model_push.set_string_custom_property(PUSH_NOTE, "not pushed: the model was not blessed")
            return
        model_dir = self.GetModelPath(input_dict)
        fingerprint = serving_versions.model_fingerprint(model_dir)
        latest = serving_versions.latest_version(serving_dir)
        if latest is not None and serving_versions.read_push_record(serving_dir, latest)["fingerprint"] == fingerprint:
            self._MarkNotPushed(model_push)
            model_push.set_string_custom_property(PUSH_NOTE, f"not pushed: already serving as version {latest}")
            return
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        destination = serving_versions.push_version(
            model_dir, serving_dir, fingerprint, {"model_artifact_uri": model.uri, "model_artifact_id": model.id}
        )
        self._MarkPushed(model_push, pushed_destination=destination, pushed_version=destination.rsplit("/", 1)[-1])
        model_push.set_string_custom_property(PUSH_NOTE, f"pushed to {destination}")
        pruned = serving_versions.prune_versions(serving_dir, keep)
        logging.info("pushed %s; pruned old versions %s", destination, pruned)


class SafePusher(Pusher):
    """TFX's Pusher component, run by SafePusherExecutor."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(SafePusherExecutor)
