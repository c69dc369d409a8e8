"""Starting a Kubeflow Pipelines run of a compiled spec, through the KFP SDK's client (kfp 2.5.0).

The run carries its pipeline root, because KFP's backend never reads the spec's defaultPipelineRoot: the
driver of the run's root DAG takes the run's runtime_config.pipeline_root, else the defaultPipelineRoot key
of the kfp-launcher ConfigMap in the run's namespace, else minio://mlpipeline/v2/artifacts
(kubeflow/pipelines backend/src/v2/driver/driver.go RootDAG, backend/src/v2/config/env.go FromConfigMap and
Config.DefaultPipelineRoot, the same at tags 2.5.0 and 2.17.0).
"""
from __future__ import annotations

import json
from typing import Optional

from pipeline.config import ConfigError
from pipeline.kubeflow.launcher_paths import LOCAL_PREFIXES


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


def start_run(host: str, spec_path: str, *, experiment: str, pipeline_root: str, run_name: Optional[str] = None,
              namespace: Optional[str] = None, service_account: Optional[str] = None,
              enable_caching: Optional[bool] = None) -> str:
    """Files a run of the spec under the experiment (created when missing); returns the run's id.

    kfp.Client.create_run_from_pipeline_package embeds the spec in the run (no pipeline is uploaded).
    """
    import kfp
    import kfp_server_api
    import urllib3

    try:
        client = kfp.Client(host=host, namespace=namespace or "kubeflow")
        result = client.create_run_from_pipeline_package(
            spec_path,
            run_name=run_name,
            experiment_name=experiment,
            namespace=namespace,
            pipeline_root=pipeline_root,
            service_account=service_account or None,
            enable_caching=enable_caching,
        )
    except urllib3.exceptions.HTTPError as err:
        raise ConfigError(f"cannot reach Kubeflow Pipelines at {host}: {getattr(err, 'reason', None) or err}") from None
    except kfp_server_api.ApiException as err:
        raise ConfigError(
            f"Kubeflow Pipelines at {host} refused the run: HTTP {err.status} {err.reason}: {_server_message(err)}"
        ) from None
    return result.run_id


def _server_message(err) -> str:
    """The message of KFP's JSON error body (grpc-gateway's {"error", "code", "message", "details"})."""
    try:
        body = json.loads(err.body or "{}")
        return body.get("message") or body.get("error") or str(err.body)
    except (TypeError, ValueError, AttributeError):
        return str(err.body or err.reason)
