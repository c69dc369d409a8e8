"""What KFP's launcher does inside a component pod around the user's command, in Python, for the rehearsal.

backend/src/v2/component/launcher_v2.go at tags 2.5.0 and 2.17.0: the placeholders filled
into the command, the log file of published logs, and the executor output merged into
the outputs it records. The object store's part is rehearsal/object_store.py.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Dict, List, Optional

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2

from pipeline.kubeflow.launcher_paths import local_path_for_uri
from rehearsal.driver import EXECUTOR_LOGS, BackendRelease


def log_file_path(outputs: kfp_pb2.ExecutorInput.Outputs) -> Optional[str]:
    """launcher_v2.go getLogWriter: where the launcher writes the command's output when logs are published.

    With exactly one `executor-logs` artifact whose URI has a local path, the launcher makes its
    parent folder, creates the file (os.Create) before the command starts, and writes the command's
    stdout and stderr to both its own stdout and that file; otherwise only to its stdout.
    """
    if EXECUTOR_LOGS not in outputs.artifacts or len(outputs.artifacts[EXECUTOR_LOGS].artifacts) != 1:
        return None
    return local_path_for_uri(outputs.artifacts[EXECUTOR_LOGS].artifacts[0].uri)


def qualify_executor_logs_for_retry(outputs: kfp_pb2.ExecutorInput.Outputs, release: BackendRelease) -> None:
    """launcher_v2.go qualifyExecutorLogsForRetry (2.17): executor-logs becomes executor-logs-<retry index>,
    before the placeholders are filled; a task without a retry policy (this project's) has index 0."""
    if release.logs_retry_suffix and EXECUTOR_LOGS in outputs.artifacts:
        for artifact in outputs.artifacts[EXECUTOR_LOGS].artifacts:
            artifact.uri += release.logs_retry_suffix


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


def fill_placeholders(command: List[str], args: List[str], executor_input: kfp_pb2.ExecutorInput,
                      release: BackendRelease) -> List[str]:
    """launcher_v2.go executeV2 (2.5.0) / compileCmdAndArgs (2.17): the command and args as the pod runs them.

    2.5.0 replaces every placeholder in the command and the args; 2.17 replaces only {{$}} in the
    command (its other replacements there are computed and dropped) and every placeholder in the args.
    """
    values = placeholders(executor_input)

    def filled(words: List[str], wanted: Dict[str, str]) -> List[str]:
        out = []
        for word in words:
            for placeholder, replacement in wanted.items():
                word = word.replace(placeholder, replacement)
            out.append(word)
        return out

    command_values = values if release.fills_command_placeholders else {"{{$}}": values["{{$}}"]}
    return filled(command, command_values) + filled(args, values)
