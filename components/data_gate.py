"""DataValidationGate: stops the pipeline before Transform when the data breaks the schema.

ExampleValidator only records anomalies; this component reads them and
fails with a readable message, or passes the schema on so that Transform
(and everything after it) only ever sees validated data.
"""

import os
import shutil
from typing import Dict, List

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

_ANOMALIES_FILE = "SchemaDiff.pb"
_SCHEMA_FILE = "schema.pbtxt"


class DataValidationError(RuntimeError):
    """The examples break the curated schema; the message lists each anomaly."""


def read_anomalies(anomalies_uri: str, split_names: List[str]) -> Dict[str, List[str]]:
    """{split: ["feature: description", ...]} for every split with anomalies."""
    found = {}
    for split in split_names:
        path = os.path.join(anomalies_uri, f"Split-{split}", _ANOMALIES_FILE)
        if not os.path.exists(path):
            continue
        anomalies = anomalies_pb2.Anomalies()
        with open(path, "rb") as handle:
            anomalies.ParseFromString(handle.read())
        messages = [
            f"{feature}: {info.description or info.short_description}"
            for feature, info in sorted(anomalies.anomaly_info.items())
        ]
        if anomalies.HasField("dataset_anomaly_info"):
            messages.append(f"(data set): {anomalies.dataset_anomaly_info.description}")
        if messages:
            found[split] = messages
    return found


def anomaly_message(found: Dict[str, List[str]], schema_uri: str) -> str:
    lines = ["the examples do not match the curated schema; stopping before Transform and training:"]
    for split, messages in found.items():
        lines.extend(f"  [{split}] {message}" for message in messages)
    lines.append(
        "Fix the data, or if the change is intended, update the schema in schemas/ "
        f"(the one in use was imported into {schema_uri}) and run again."
    )
    return "\n".join(lines)


@component
def DataValidationGate(
    schema: InputArtifact[standard_artifacts.Schema],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    validated_schema: OutputArtifact[standard_artifacts.Schema],
) -> None:
    split_names = artifact_utils.decode_split_names(anomalies.split_names)
    found = read_anomalies(anomalies.uri, split_names)
    if found:
        raise DataValidationError(anomaly_message(found, schema.uri))
    os.makedirs(validated_schema.uri, exist_ok=True)
    shutil.copy(os.path.join(schema.uri, _SCHEMA_FILE), os.path.join(validated_schema.uri, _SCHEMA_FILE))
