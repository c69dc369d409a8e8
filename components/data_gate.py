"""DataValidationGate: stops the pipeline before Transform when the data breaks the schema.

ExampleValidator only records anomalies; this component reads them and
fails with a readable message, or passes the schema on so that Transform
(and everything after it) only ever sees validated data. It fails closed:
a split whose validator output is missing or unreadable, or that the
validator did not bless, stops the run as surely as an anomaly.
"""

import os
import shutil
from typing import Dict, List, Optional

from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.components.example_validator import executor as example_validator
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

# ExampleValidator's own names: Split-<split>/<file> and the per-split blessing it records.
ANOMALIES_FILE = example_validator.DEFAULT_FILE_NAME
BLESSED_PROPERTY = example_validator.ARTIFACT_PROPERTY_BLESSED_KEY
_SCHEMA_FILE = "schema.pbtxt"


class DataValidationError(RuntimeError):
    """The examples break the curated schema, or their validation cannot be read; the message says which."""


def _unverifiable(anomalies_uri: str, problem: str) -> DataValidationError:
    return DataValidationError(
        f"{problem}; the data cannot be shown to match the schema, so the run stops before Transform "
        f"(validator output: {anomalies_uri}). Run again with --no-cache to validate afresh."
    )


def read_anomalies(anomalies_uri: str, split_names: List[str]) -> Dict[str, List[str]]:
    """{split: ["feature: description", ...]} for every split with anomalies.

    Raises DataValidationError when a split's anomalies file is missing or unreadable.
    """
    found = {}
    for split in split_names:
        path = os.path.join(anomalies_uri, f"Split-{split}", ANOMALIES_FILE)
        anomalies = anomalies_pb2.Anomalies()
        try:
            with open(path, "rb") as handle:
                anomalies.ParseFromString(handle.read())
        except FileNotFoundError:
            raise _unverifiable(anomalies_uri, f"ExampleValidator wrote no {ANOMALIES_FILE} for split {split!r}") from None
        except (OSError, DecodeError) as err:
            raise _unverifiable(anomalies_uri, f"{path} cannot be read ({type(err).__name__}: {err})") from None
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


def check_validation(anomalies_uri: str, split_names: List[str], blessed: Optional[dict], schema_uri: str) -> None:
    """Passes only when every split was validated, blessed and is free of anomalies."""
    if not split_names:
        raise _unverifiable(anomalies_uri, "ExampleValidator recorded no validated split")
    found = read_anomalies(anomalies_uri, split_names)
    if found:
        raise DataValidationError(anomaly_message(found, schema_uri))
    unblessed = [s for s in split_names if (blessed or {}).get(s) != example_validator.BLESSED_VALUE]
    if unblessed:
        raise _unverifiable(anomalies_uri, f"ExampleValidator did not bless split(s) {', '.join(unblessed)} "
                            f"(its {BLESSED_PROPERTY!r} property is {blessed!r})")


@component
def DataValidationGate(
    schema: InputArtifact[standard_artifacts.Schema],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    validated_schema: OutputArtifact[standard_artifacts.Schema],
) -> None:
    split_names = artifact_utils.decode_split_names(anomalies.split_names)
    blessed = anomalies.get_json_value_custom_property(BLESSED_PROPERTY)
    check_validation(anomalies.uri, split_names, blessed, schema.uri)
    os.makedirs(validated_schema.uri, exist_ok=True)
    shutil.copy(os.path.join(schema.uri, _SCHEMA_FILE), os.path.join(validated_schema.uri, _SCHEMA_FILE))
