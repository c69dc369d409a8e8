"""What Kubeflow Pipelines' backend does around one container task, in Python, for the rehearsal.

Each function mirrors a Go function of kubeflow/pipelines at KFP_BACKEND_VERSION, named in
its docstring, so that a task sees exactly what KFP hands it: artifact metadata after the
ML Metadata round trip, parameters as typed values, output URIs under the run's root, and
the same cache fingerprint. Nothing here imports TensorFlow or TFX.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from typing import Dict, List, Optional

import yaml
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

# The release whose backend source this file follows (tag 2.5.0 of kubeflow/pipelines, the
# backend of Kubeflow 1.10). The metadata conversions (metadata/converter.go) are the same in
# 2.3.0 and in 2.17.0 (which also skips a `_kfp_workspace` key this project never writes); the
# launcher and cache code changed shape after 2.5.0 and is not followed here.
KFP_BACKEND_VERSION = "2.5.0"
# launcher_v2.go: OutputMetadataFilepath.
OUTPUT_METADATA_FILE = "/tmp/kfp_outputs/output_metadata.json"
# launcher_v2.go LocalPathForURI: the folder inside the pod each object-store scheme maps to.
LOCAL_PREFIXES = {"gs://": "/gcs/", "minio://": "/minio/", "s3://": "/s3/"}
# argocompiler/container.go (2.3 and later): emptyDir volumes mounted in every component pod.
SCRATCH_MOUNTS = ("/gcs", "/s3", "/minio", "/.local", "/.cache", "/.config")


def local_path_for_uri(uri: str) -> Optional[str]:
    """launcher_v2.go LocalPathForURI: where the launcher downloads/uploads an artifact inside the pod."""
    for scheme, folder in LOCAL_PREFIXES.items():
        if uri.startswith(scheme):
            return folder + uri[len(scheme):]
    return None


def generate_output_uri(pipeline_root: str, parts: List[str]) -> str:
    """metadata/client.go GenerateOutputURI (the query string, which this project never uses, left out)."""
    return pipeline_root.split("?")[0].rstrip("/") + "/" + "/".join(p.strip("/") for p in parts)


def run_root(pipeline_root: str, pipeline_name: str, run_id: str) -> str:
    """metadata/client.go GetPipeline: the run's root is PIPELINE_ROOT/PIPELINE_NAME/RUN_ID."""
    return generate_output_uri(pipeline_root, [pipeline_name, run_id])


def provision_outputs(run_root_uri: str, task_name: str, outputs_spec: dict) -> kfp_pb2.ExecutorInput.Outputs:
    """driver.go provisionOutputs: one output artifact per declared output under RUN_ROOT/TASK/UUID/NAME.

    The executor-logs artifact KFP adds when PUBLISH_LOGS is "true" is left out (off by default).
    """
    outputs = kfp_pb2.ExecutorInput.Outputs(output_file=OUTPUT_METADATA_FILE)
    salt = str(uuid.uuid4())
    for name, spec in outputs_spec.get("artifacts", {}).items():
        artifact = outputs.artifacts[name].artifacts.add()
        artifact.uri = generate_output_uri(run_root_uri, [task_name, salt, name])
        json_format.ParseDict(spec["artifactType"], artifact.type)
        if "metadata" in spec:
            json_format.ParseDict(spec["metadata"], artifact.metadata)
    for name in outputs_spec.get("parameters", {}):
        outputs.parameters[name].output_file = f"/tmp/kfp/outputs/{name}"
    return outputs


def struct_value_to_mlmd_value(value: struct_pb2.Value) -> mlmd_pb2.Value:
    """metadata/converter.go StructValueToMLMDValue: how the launcher stores each metadata field.

    Booleans become ints; a list is stored as {"list": [...]} and a dict as {"struct": {...}}.
    """
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return mlmd_pb2.Value(string_value=value.string_value)
    if kind == "number_value":
        return mlmd_pb2.Value(double_value=value.number_value)
    if kind == "bool_value":
        return mlmd_pb2.Value(int_value=int(value.bool_value))
    wrapped = struct_pb2.Struct()
    if kind == "list_value":
        wrapped.fields["list"].list_value.CopyFrom(value.list_value)
    elif kind == "struct_value":
        wrapped.fields["struct"].struct_value.CopyFrom(value.struct_value)
    else:
        raise ValueError(f"unknown/unsupported value type {kind}")  # KFP's own message; null included
    return mlmd_pb2.Value(struct_value=wrapped)


def to_mlmd_artifact(runtime: kfp_pb2.RuntimeArtifact, output_name: str, session_info: str) -> mlmd_pb2.Artifact:
    """converter.go toMLMDArtifact plus client.go RecordArtifact's defaults (display_name, store_session_info)."""
    artifact = mlmd_pb2.Artifact(uri=runtime.uri)
    for key, value in runtime.metadata.fields.items():
        artifact.custom_properties[key].CopyFrom(struct_value_to_mlmd_value(value))
    if "display_name" not in artifact.custom_properties:
        artifact.custom_properties["display_name"].string_value = output_name
    if "store_session_info" not in artifact.custom_properties:
        artifact.custom_properties["store_session_info"].string_value = session_info
    return artifact


def to_runtime_artifact(artifact: mlmd_pb2.Artifact, schema: str = "") -> kfp_pb2.RuntimeArtifact:
    """converter.go toRuntimeArtifact + client.go OutputArtifact.ToRuntimeArtifact: what a downstream task receives.

    The name is the ML Metadata id; properties come back as they were stored (a wrapped struct
    stays wrapped, ints become numbers); the schema of an upstream output is "" in 2.5.0
    (client.go GetOutputArtifactsByExecutionId: "TODO(Bobgy): figure out how to get schema").
    """
    runtime = kfp_pb2.RuntimeArtifact(name=str(artifact.id), uri=artifact.uri)
    for properties in (artifact.properties, artifact.custom_properties):
        for key, value in properties.items():
            kind = value.WhichOneof("value")
            field = runtime.metadata.fields[key]
            if kind == "string_value":
                field.string_value = value.string_value
            elif kind == "double_value":
                field.number_value = value.double_value
            elif kind == "int_value":
                field.number_value = float(value.int_value)
            elif kind == "struct_value":
                field.struct_value.CopyFrom(value.struct_value)
            else:
                raise ValueError(f"failed to convert MLMD artifact to RuntimeArtifact: unknown property type in MLMD artifact: {kind}")
    runtime.type.instance_schema = schema
    return runtime


def schema_title(artifact_type: kfp_pb2.ArtifactTypeSchema) -> str:
    """client.go SchemaToArtifactType (via launcher_v2.go getArtifactSchema): the ML Metadata type name."""
    kind = artifact_type.WhichOneof("kind")
    if kind == "schema_title":
        return artifact_type.schema_title
    if kind == "instance_schema":
        title = (yaml.safe_load(artifact_type.instance_schema) or {}).get("title", "")
        if title:
            return title
    raise ValueError(f"No title specified in artifact type {json_format.MessageToJson(artifact_type)}")


def merge_runtime_artifacts(src: kfp_pb2.RuntimeArtifact, dst: kfp_pb2.RuntimeArtifact) -> None:
    """launcher_v2.go mergeRuntimeArtifacts: the executor output's URI and metadata win over the driver's."""
    if src.uri:
        dst.uri = src.uri
    for key, value in src.metadata.fields.items():
        dst.metadata.fields[key].CopyFrom(value)


def placeholders(executor_input: kfp_pb2.ExecutorInput) -> Dict[str, str]:
    """launcher_v2.go getPlaceholders: what each {{$...}} in the command and args becomes."""
    values = {"{{$}}": json_format.MessageToJson(executor_input, indent=None)}
    for name, listing in executor_input.inputs.artifacts.items():
        if listing.artifacts:
            uri = listing.artifacts[0].uri
            values[f"{{{{$.inputs.artifacts['{name}'].uri}}}}"] = uri
            if local_path_for_uri(uri):
                values[f"{{{{$.inputs.artifacts['{name}'].path}}}}"] = local_path_for_uri(uri)
    for name, listing in executor_input.outputs.artifacts.items():
        if listing.artifacts:
            uri = listing.artifacts[0].uri
            values[f"{{{{$.outputs.artifacts['{name}'].uri}}}}"] = uri
            values[f"{{{{$.outputs.artifacts['{name}'].path}}}}"] = local_path_for_uri(uri) or ""
    for name, value in executor_input.inputs.parameter_values.items():
        kind = value.WhichOneof("kind")
        if kind == "string_value":
            text = value.string_value
        elif kind == "number_value":
            text = format(Decimal(repr(value.number_value)), "f")  # strconv.FormatFloat(v, 'f', -1, 64)
            text = text.rstrip("0").rstrip(".") if "." in text else text
        elif kind == "bool_value":
            text = "true" if value.bool_value else "false"
        else:
            text = json.dumps(json_format.MessageToDict(value), separators=(",", ":"))
        values[f"{{{{$.inputs.parameters['{name}']}}}}"] = text
    for name, parameter in executor_input.outputs.parameters.items():
        values[f"{{{{$.outputs.parameters['{name}'].output_file}}}}"] = parameter.output_file
    return values


def fill_placeholders(arguments: List[str], executor_input: kfp_pb2.ExecutorInput) -> List[str]:
    """launcher_v2.go executeV2: every placeholder replaced in every command word and argument."""
    values = placeholders(executor_input)
    filled = []
    for argument in arguments:
        for placeholder, replacement in values.items():
            argument = argument.replace(placeholder, replacement)
        filled.append(argument)
    return filled


def cache_fingerprint(executor_input: kfp_pb2.ExecutorInput, component: dict, container: dict) -> str:
    """driver.go getFingerPrint + cacheutils/cache.go GenerateCacheKey and GenerateFingerPrint.

    The key holds the input artifacts' names (ML Metadata ids), the input parameter values,
    the output artifacts' specs with URIs wiped, the output parameters' types, and the image
    with the command and args as compiled (placeholders unreplaced): never the content of a
    folder on a volume. sha256 of the key's JSON (map keys sorted, as Go's encoding/json does).
    """
    inputs, outputs = executor_input.inputs, executor_input.outputs
    key = {
        "inputArtifactNames": {
            name: {"artifactNames": [a.name for a in listing.artifacts]} for name, listing in inputs.artifacts.items()
        },
        "inputParameterValues": {name: json_format.MessageToDict(v) for name, v in inputs.parameter_values.items()},
        "outputArtifactsSpec": {
            name: json_format.MessageToDict(kfp_pb2.RuntimeArtifact(
                name=listing.artifacts[0].name, type=listing.artifacts[0].type, metadata=listing.artifacts[0].metadata))
            for name, listing in outputs.artifacts.items() if listing.artifacts
        },
        "outputParametersSpec": {
            name: spec["parameterType"] for name, spec in component.get("outputDefinitions", {}).get("parameters", {}).items()
        },
        "containerSpec": {"image": container["image"], "cmdArgs": list(container.get("command", [])) + list(container.get("args", []))},
    }
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
