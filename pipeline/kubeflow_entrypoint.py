"""The command of every component container on Kubeflow: TFX's own entrypoint, on local artifact copies.

KFP's launcher downloads inputs to, and uploads outputs from, local folders;
TFX executors read and write artifact.uri, which tf.io.gfile cannot open for
minio:// (KFP's default store). This wrapper points the URIs at those local
copies, runs TFX's kubeflow_v2_run_executor, and hands the launcher the
remote URIs back.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional

# KFP's launcher copies artifacts between the object store and these local
# folders (backend/src/v2/component/launcher_v2.go, LocalPathForURI).
LAUNCHER_LOCAL_PREFIXES = {"gs://": "gcs/", "minio://": "minio/", "s3://": "s3/"}


def _local_path(uri: str, local_root: str) -> Optional[str]:
    for scheme, folder in LAUNCHER_LOCAL_PREFIXES.items():
        if uri.startswith(scheme):
            return os.path.join(local_root, folder + uri[len(scheme):])
    return None


def localize_executor_input(executor_input: dict, inputs_spec: Optional[dict], local_root: str = "/") -> Dict[str, str]:
    """Points artifact URIs at the launcher's local copies; returns {local path: remote URI}.

    KFP's launcher downloads inputs to, and uploads outputs from, local folders;
    TFX executors write to artifact.uri, which tf.io.gfile cannot open for
    minio:// (KFP's default store). Input types are also taken from the compiled
    component spec, which TFX needs to find each artifact's class.
    """
    remote_of = {}
    for side in ("inputs", "outputs"):
        for name, listing in executor_input.get(side, {}).get("artifacts", {}).items():
            for artifact in listing.get("artifacts", []):
                local = _local_path(artifact.get("uri", ""), local_root)
                if local:
                    remote_of[local] = artifact["uri"]
                    artifact["uri"] = local
                    if side == "outputs":
                        os.makedirs(local, exist_ok=True)
                declared = ((inputs_spec or {}).get("artifacts", {}).get(name, {})).get("artifactType")
                if side == "inputs" and declared:
                    artifact["type"] = declared
    return remote_of


def restore_remote_uris(output_file: str, remote_of: Dict[str, str]) -> None:
    """The launcher records and uploads what the executor output names: give it the remote URIs back."""
    if not remote_of or not os.path.isfile(output_file):
        return
    with open(output_file) as handle:
        output = json.load(handle)
    for listing in output.get("artifacts", {}).values():
        for artifact in listing.get("artifacts", []):
            artifact["uri"] = remote_of.get(artifact.get("uri"), artifact.get("uri"))
    with open(output_file, "w") as handle:
        json.dump(output, handle)


def run_component(argv: List[str], local_root: str = "/") -> None:
    """TFX's KFP v2 entrypoint (kubeflow_v2_run_executor), on the launcher's local artifact copies."""
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor as tfx_entrypoint

    from pipeline.beam_mode import prepare_local_beam

    # The pod's DirectRunner runs the image's installed packages, and a pod with internet access would
    # otherwise download Prism and run on it.
    prepare_local_beam()
    argv = list(argv)
    position = argv.index("--json_serialized_invocation_args") + 1
    executor_input = json.loads(argv[position])
    inputs_spec = None
    if "--json_serialized_inputs_spec_args" in argv:
        inputs_spec = json.loads(argv[argv.index("--json_serialized_inputs_spec_args") + 1])
    remote_of = localize_executor_input(executor_input, inputs_spec, local_root)
    argv[position] = json.dumps(executor_input)
    tfx_entrypoint.main(tfx_entrypoint._parse_flags(argv))  # noqa: SLF001 (the same parsing TFX's own __main__ does)
    restore_remote_uris(executor_input.get("outputs", {}).get("outputFile", ""), remote_of)


if __name__ == "__main__":
    import sys

    import components  # noqa: F401  (pins Keras 2 before TFX imports TensorFlow)

    run_component(sys.argv[1:])
