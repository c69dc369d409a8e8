"""WarmStartSource: the model serving now, copied for the Trainer's base_model when warm_start is on.

A component of ours, run before the Trainer (ServingBaseline runs after it: it must know the candidate).
Under the serving lock it copies the highest version, push record included, into its Model output
(Format-Serving, where TFX's Trainer looks for a base model), and writes warm_start_source.json beside
it: the version, or why there is none (an empty or unmanaged serving dir), and the spans this run reads,
which the Trainer weighs against the spans the serving model was trained on
(components/model/warm_start.py decides).
"""
import json
import os

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import node_ids
from components.model.warm_start import SOURCE_FILE
from components.promotion.pusher_executor import trained_spans
from components.serving import versions as serving_versions
from components.serving.lock import serving_lock

SERVING_MODEL_FOLDER = "Format-Serving"  # TFX's path_utils.serving_model_path of a Model artifact


@component
def WarmStartSource(
    examples: InputArtifact[standard_artifacts.Examples],
    model: OutputArtifact[standard_artifacts.Model],
    serving_dir: Parameter[str],
    serving_state: Parameter[str] = "",
) -> None:
    """serving_dir is PromotionSettings' (handed on by pipeline/pipeline.py); serving_state keys the cache."""
    del serving_state  # a new push means a new lookup
    source = {"serving_dir": serving_dir, "version": None, "why_not": None, "run_spans": trained_spans([examples])}
    with serving_lock(serving_dir, node_ids.WARM_START_SOURCE):
        folders = serving_versions.scan(serving_dir)
        served = folders[-1] if folders else None
        if served is None:
            source["why_not"] = f"nothing is serving in {serving_dir} yet"
        elif not served.managed:
            source["why_not"] = (f"{served.path}, the version served, has no push_record.json: it was not pushed "
                                 f"by this pipeline, so its classes and spans are unknown")
        else:
            serving_versions.copy_tree(served.path, os.path.join(model.uri, SERVING_MODEL_FOLDER))
            source["version"] = served.version
    os.makedirs(model.uri, exist_ok=True)
    with open(os.path.join(model.uri, SOURCE_FILE), "w") as handle:
        json.dump(source, handle, indent=2)
    print(f"WarmStartSource: {f'serving version {served.version}' if source['version'] is not None else source['why_not']}",
          flush=True)
