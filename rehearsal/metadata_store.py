"""The rehearsal's ML Metadata: a real MLMD store (SQLite) written as KFP's driver and launcher write theirs.

Artifacts are recorded through mlmd_conversion.to_mlmd_artifact (so metadata takes the same
round trip as on a cluster), executions carry KFP's custom properties (task_name,
cache_fingerprint, outputs), and the cache is looked up by fingerprint among completed
executions of the same pipeline, as KFP's API server answers the driver.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from google.protobuf import struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from rehearsal import mlmd_conversion

# metadata/client.go: the execution and context type names KFP uses.
CONTAINER_EXECUTION = "system.ContainerExecution"
PIPELINE_CONTEXT, RUN_CONTEXT = "system.Pipeline", "system.PipelineRun"


class RehearsalMetadata:
    def __init__(self, sqlite_path: str):
        config = mlmd_pb2.ConnectionConfig()
        config.sqlite.filename_uri = sqlite_path
        config.sqlite.connection_mode = mlmd_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(config)
        self._execution_type = self.store.put_execution_type(mlmd_pb2.ExecutionType(name=CONTAINER_EXECUTION))
        self._types: Dict[str, int] = {}

    def run_contexts(self, pipeline_name: str, run_id: str) -> List[mlmd_pb2.Context]:
        """client.go GetPipeline: the pipeline's context and this run's."""
        contexts = []
        for type_name, name in ((PIPELINE_CONTEXT, pipeline_name), (RUN_CONTEXT, run_id)):
            type_id = self.store.put_context_type(mlmd_pb2.ContextType(name=type_name))
            found = self.store.get_context_by_type_and_name(type_name, name)
            if found is None:
                [context_id] = self.store.put_contexts([mlmd_pb2.Context(type_id=type_id, name=name)])
                found = self.store.get_contexts_by_id([context_id])[0]
            contexts.append(found)
        return contexts

    def cached_execution(self, fingerprint: str, pipeline_name: str) -> Optional[int]:
        """cacheutils GetExecutionCache: the newest completed execution of this pipeline with the fingerprint."""
        if not fingerprint:
            return None
        hits = [
            e for e in self.store.get_executions_by_type(CONTAINER_EXECUTION)
            if e.custom_properties["cache_fingerprint"].string_value == fingerprint
            and e.custom_properties["pipeline_name"].string_value == pipeline_name
            and e.last_known_state == mlmd_pb2.Execution.COMPLETE
        ]
        return max(hits, key=lambda e: e.id).id if hits else None

    def create_execution(self, task_name: str, pipeline_name: str, fingerprint: str, contexts) -> mlmd_pb2.Execution:
        """client.go CreateExecution: a RUNNING execution with the task's name and cache fingerprint."""
        execution = mlmd_pb2.Execution(type_id=self._execution_type, last_known_state=mlmd_pb2.Execution.RUNNING)
        execution.custom_properties["task_name"].string_value = task_name
        execution.custom_properties["display_name"].string_value = task_name
        execution.custom_properties["pipeline_name"].string_value = pipeline_name
        execution.custom_properties["cache_fingerprint"].string_value = fingerprint
        execution_id, _, _ = self.store.put_execution(execution, [], contexts, reuse_context_if_already_exist=True)
        execution.id = execution_id
        return execution

    def record_artifact(self, output_name: str, runtime: kfp_pb2.RuntimeArtifact, session_info: str) -> mlmd_pb2.Artifact:
        """client.go RecordArtifact: the type named by the schema title, metadata through StructValueToMLMDValue."""
        title = mlmd_conversion.schema_title(runtime.type)
        if title not in self._types:
            self._types[title] = self.store.put_artifact_type(mlmd_pb2.ArtifactType(name=title))
        artifact = mlmd_conversion.to_mlmd_artifact(runtime, output_name, session_info)
        artifact.type_id = self._types[title]
        artifact.state = mlmd_pb2.Artifact.LIVE
        [artifact_id] = self.store.put_artifacts([artifact])
        return self.store.get_artifacts_by_id([artifact_id])[0]

    def publish_execution(self, execution, state, output_parameters: Dict[str, struct_pb2.Value],
                          outputs: Dict[str, mlmd_pb2.Artifact], contexts) -> None:
        """client.go PublishExecution: the final state, output parameters as a struct, one OUTPUT event per artifact."""
        execution.last_known_state = state
        if output_parameters is not None:
            values = struct_pb2.Struct()
            for name, value in output_parameters.items():
                values.fields[name].CopyFrom(value)
            execution.custom_properties["outputs"].struct_value.CopyFrom(values)
        pairs = []
        for name, artifact in outputs.items():
            event = mlmd_pb2.Event(type=mlmd_pb2.Event.OUTPUT)
            event.path.steps.add().key = name
            pairs.append((artifact, event))
        self.store.put_execution(execution, pairs, contexts, reuse_context_if_already_exist=True)

    def output_artifacts(self, execution_id: int) -> Dict[str, mlmd_pb2.Artifact]:
        """client.go GetOutputArtifactsByExecutionId: {output name: artifact}."""
        events = [e for e in self.store.get_events_by_execution_ids([execution_id]) if e.type == mlmd_pb2.Event.OUTPUT]
        artifacts = {a.id: a for a in self.store.get_artifacts_by_id([e.artifact_id for e in events])}
        return {e.path.steps[0].key: artifacts[e.artifact_id] for e in events}

    def output_parameters(self, execution_id: int) -> Dict[str, struct_pb2.Value]:
        """Execution.GetParameters: the outputs struct the launcher published."""
        [execution] = self.store.get_executions_by_id([execution_id])
        return dict(execution.custom_properties["outputs"].struct_value.fields)
