"""Fixtures shared by the tests of pipeline/."""
import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2

from pipeline.kubeflow import kfp_backend


def kfp_metadata_round_trip(metadata: dict, artifact_id: int = 7) -> dict:
    """An executor's output metadata as the next task's driver hands it over: recorded by KFP's launcher in
    ML Metadata (converter.go StructValueToMLMDValue), read back by the driver (toRuntimeArtifact)."""
    runtime = kfp_pb2.RuntimeArtifact(uri="minio://b/x", type=kfp_pb2.ArtifactTypeSchema(schema_title="tfx.Examples"))
    json_format.ParseDict(metadata, runtime.metadata)
    stored = kfp_backend.to_mlmd_artifact(runtime, "examples", "{}")
    stored.id = artifact_id
    return json_format.MessageToDict(kfp_backend.to_runtime_artifact(stored))


@pytest.fixture
def kfp_round_trip():
    return kfp_metadata_round_trip
