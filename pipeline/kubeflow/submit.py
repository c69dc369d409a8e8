"""Starting a Kubeflow Pipelines run of a compiled spec, through the KFP SDK's client (kfp 2.5.0).

The run carries its pipeline root, because KFP's backend never reads the spec's defaultPipelineRoot: the
driver of the run's root DAG takes the run's runtime_config.pipeline_root, else the defaultPipelineRoot key
of the kfp-launcher ConfigMap in the run's namespace, else minio://mlpipeline/v2/artifacts
(kubeflow/pipelines backend/src/v2/driver/driver.go RootDAG, backend/src/v2/config/env.go FromConfigMap and
Config.DefaultPipelineRoot, the same at tags 2.5.0 and 2.17.0).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Optional

from pipeline.config import ConfigError
from pipeline.kubeflow.launcher_paths import LOCAL_PREFIXES
from pipeline.kubeflow.schedule import describe_interval


def check_pipeline_root(root: str, source: str = "--pipeline-root", fix: str = "") -> str:
    """root, when KFP's launcher can keep artifacts there; else a ConfigError naming where root came from."""
    if not root.startswith(tuple(LOCAL_PREFIXES)):
        raise ConfigError(
            f"{source} {root or '(none)'}: KFP keeps artifacts in an object store; give a "
            f"{', '.join(LOCAL_PREFIXES)} URI (KFP's own: minio://mlpipeline/v2/artifacts){fix}"
        )
    return root


def run_pipeline_root(spec_path: str, spec: dict, override: Optional[str]) -> str:
    """The root the run is given: --pipeline-root, else the spec's defaultPipelineRoot."""
    if override is not None:
        return check_pipeline_root(override)
    return check_pipeline_root(spec.get("defaultPipelineRoot", ""), f"{spec_path}: defaultPipelineRoot",
                               "; pass --pipeline-root or recompile the spec")


def run_parameters(spec_path: str, spec: dict, *, span: Optional[str], window_spans: Optional[int],
                   newest: bool = False, accept_drift: bool = False, reason: Optional[str] = None) -> dict:
    """The run's runtime_config.parameters: --span, --window-spans and --accept-drift --reason, each a parameter
    of the spec's root.

    newest (a recurring run): the span parameter is set to "" (the newest span present) when the spec was
    compiled with a span pinned, so a schedule never re-trains on one old span.
    """
    from pipeline.kubeflow.compiler import ACCEPT_DRIFT_PARAMETER, SPAN_PARAMETER, WINDOW_PARAMETER

    declared = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    wanted = {}
    if span is not None:
        wanted[SPAN_PARAMETER] = span
    elif newest and declared.get(SPAN_PARAMETER, {}).get("defaultValue"):
        wanted[SPAN_PARAMETER] = ""
    if window_spans is not None:
        if window_spans < 0:
            raise ConfigError(f"--window-spans {window_spans}: give the number of newest spans to train on, or 0 for all")
        wanted[WINDOW_PARAMETER] = window_spans
    if accept_drift:
        if not (reason or "").strip():
            raise ConfigError("--accept-drift needs a reason: add --reason TEXT (it is recorded in the drift report)")
        wanted[ACCEPT_DRIFT_PARAMETER] = reason
    elif reason is not None:
        raise ConfigError("--reason was given without --accept-drift; add --accept-drift or drop the reason")
    missing = sorted(name for name in wanted if name not in declared)
    if missing:
        why = {ACCEPT_DRIFT_PARAMETER: "it was compiled before drift was accepted per run, or with drift_gate off: "
                                       "no drift gate to accept; for the gate, compile with drift_gate on"}
        reasons = "; ".join(f"{name}: {why.get(name, 'it was compiled before spans were run parameters')}" for name in missing)
        raise ConfigError(f"{spec_path} takes no run parameter {', '.join(missing)} ({reasons}); recompile it with "
                          "`compile-kubeflow`")
    return wanted


def start_run(host: str, spec_path: str, *, experiment: str, pipeline_root: str, run_name: Optional[str] = None,
              namespace: Optional[str] = None, service_account: Optional[str] = None,
              enable_caching: Optional[bool] = None, parameters: Optional[dict] = None) -> str:
    """Files a run of the spec under the experiment (created when missing); returns the run's id.

    kfp.Client.create_run_from_pipeline_package embeds the spec in the run (no pipeline is uploaded);
    parameters become the run's runtime_config.parameters.
    """
    with _kfp_client(host, namespace, "run") as client:
        result = client.create_run_from_pipeline_package(
            spec_path,
            arguments=parameters or {},
            run_name=run_name,
            experiment_name=experiment,
            namespace=namespace,
            pipeline_root=pipeline_root,
            service_account=service_account or None,
            enable_caching=enable_caching,
        )
    return result.run_id


@dataclasses.dataclass(frozen=True)
class Schedule:
    """When a recurring run fires: every interval_seconds, or at each time of a six-field cron."""

    interval_seconds: Optional[int] = None
    cron: Optional[str] = None

    def __str__(self) -> str:
        return f"every {describe_interval(self.interval_seconds)}" if self.interval_seconds else f"at cron '{self.cron}'"


# KFP's scheduled-workflow controller starts a run only while fewer than max_concurrency of the recurring
# run's runs are active (backend/src/crd/controller/scheduledworkflow/util/scheduled_workflow.go
# GetNextScheduledEpoch), and with no_catchup it starts only the latest of the times it missed
# (getNextScheduledEpoch): two trainings never race for the serving dir, and a paused schedule does not
# start a burst of runs of the same data when it resumes.
MAX_CONCURRENCY = 1
NO_CATCHUP = True


def create_schedule(host: str, spec_path: str, schedule: Schedule, *, experiment: str, pipeline_root: str,
                    job_name: str, namespace: Optional[str] = None, service_account: Optional[str] = None,
                    enable_caching: Optional[bool] = None, parameters: Optional[dict] = None) -> str:
    """Creates a recurring run of the spec under the experiment (created when missing); returns its id.

    kfp.Client.create_recurring_run embeds the spec too, so the recurring run keeps running this spec
    whatever is uploaded later.
    """
    with _kfp_client(host, namespace, "recurring run") as client:
        experiment_id = client.create_experiment(name=experiment, namespace=namespace).experiment_id  # get or create
        result = client.create_recurring_run(
            experiment_id=experiment_id,
            job_name=job_name,
            interval_second=schedule.interval_seconds,
            cron_expression=schedule.cron,
            max_concurrency=MAX_CONCURRENCY,
            no_catchup=NO_CATCHUP,
            params=parameters or {},
            pipeline_package_path=spec_path,
            pipeline_root=pipeline_root,
            enable_caching=enable_caching,
            service_account=service_account or None,
        )
    return result.recurring_run_id


@contextlib.contextmanager
def _kfp_client(host: str, namespace: Optional[str], what: str):
    """kfp.Client for host; what KFP or the network answers is a ConfigError naming the host."""
    import kfp
    import kfp_server_api
    import urllib3

    try:
        yield kfp.Client(host=host, namespace=namespace or "kubeflow")
    except urllib3.exceptions.HTTPError as err:
        raise ConfigError(f"cannot reach Kubeflow Pipelines at {host}: {getattr(err, 'reason', None) or err}") from None
    except kfp_server_api.ApiException as err:
        raise ConfigError(
            f"Kubeflow Pipelines at {host} refused the {what}: HTTP {err.status} {err.reason}: {_server_message(err)}"
        ) from None


def _server_message(err) -> str:
    """The message of KFP's JSON error body (grpc-gateway's {"error", "code", "message", "details"})."""
    try:
        body = json.loads(err.body or "{}")
        return body.get("message") or body.get("error") or str(err.body)
    except (TypeError, ValueError, AttributeError):
        return str(err.body or err.reason)
