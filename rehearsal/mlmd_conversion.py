"""ML Metadata as KFP's launcher writes it and its driver reads it back: what a downstream task receives.

backend/src/v2/metadata/converter.go and client.go. The conversions are the same at tags
2.5.0 and 2.17.0, except that 2.17.0's toMLMDArtifact skips a `_kfp_workspace` key, which
this project never writes. Nothing here imports TensorFlow or TFX.
"""
from __future__ import annotations

import yaml
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2


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


