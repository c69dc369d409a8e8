"""`transfer-pipeline compile-kubeflow` and `transfer-pipeline submit`: the Kubeflow half of the CLI.

pipeline/cli/main.py calls register(commands). Handlers return an exit code and
raise ConfigError for anything the user can fix; nothing heavy is imported
until a command runs.
"""
from __future__ import annotations

import os
import shlex
import socket
import time
from urllib.parse import urlparse

from pipeline.config import DEFAULT_SCHEMA_DIR, ConfigError

DEFAULT_SCHEMA = os.path.join(DEFAULT_SCHEMA_DIR, "horse_or_human", "schema.pbtxt")
DEFAULT_EXPERIMENT = "transfer-pipeline"
# kubernetes/rbac.yaml's ServiceAccount: what the component pods run as.
RUNNER_SERVICE_ACCOUNT = "transfer-pipeline-runner"


def register(commands) -> None:
    from pipeline.kubeflow import compiler as kfr

    compile_cmd = commands.add_parser("compile-kubeflow", help="compile the pipeline into a Kubeflow Pipelines spec (offline)")
    compile_cmd.add_argument("--output", required=True, help="spec file: FILE.yaml (what `submit` uploads) or FILE.json (TFX PipelineJob, Vertex AI)")
    compile_cmd.add_argument("--image", required=True, help="container image built from kubernetes/Dockerfile, e.g. registry.example.com/transfer-pipeline:0.1.0")
    compile_cmd.add_argument("--pipeline-root", required=True, help="where KFP keeps artifacts: minio://mlpipeline/v2/artifacts (KFP's own store), gs://BUCKET/PATH or s3://BUCKET/PATH")
    compile_cmd.add_argument("--serving-dir", help=f"where blessed models are pushed, as the pods see it (default {kfr.DEFAULT_SERVING_DIR}, on the serving volume)")
    compile_cmd.add_argument("--data-dir", help=f"class folders of images, as the pods see it (default {kfr.DEFAULT_DATA_DIR}, on the data volume)")
    compile_cmd.add_argument("--golden-dir", help=f"a golden set's class folders, as the pods see it (on the data volume, under {kfr.DATA_MOUNT}/; default: none)")
    compile_cmd.add_argument("--schema", dest="schema_path", help=f"curated schema.pbtxt of this checkout (default {os.path.relpath(DEFAULT_SCHEMA)})")
    compile_cmd.add_argument("--beam-args", help="Beam options for every component, one quoted string (default: each pod "
                             "runs DirectRunner in-process for small data, else one worker per CPU of its limit); e.g. --beam-args='--runner=DataflowRunner --project=P --region=R "
                             "--temp_location=gs://B/tmp' or --beam-args='--runner=FlinkRunner --flink_master=HOST:8081 --environment_type=EXTERNAL ...'")
    compile_cmd.add_argument("--config", help="YAML file of pipeline settings (keys as in pipeline/config.py); flags override it")
    compile_cmd.add_argument("--no-cache", dest="enable_cache", action="store_false", default=None, help="compile with KFP caching off for every task")
    compile_cmd.add_argument("--data-pvc", default=kfr.DATA_PVC, help=f"claim holding the images, mounted at {kfr.DATA_MOUNT} (default {kfr.DATA_PVC})")
    compile_cmd.add_argument("--serving-pvc", default=kfr.SERVING_PVC, help=f"claim TF Serving reads, mounted at {kfr.SERVING_MOUNT} (default {kfr.SERVING_PVC})")
    compile_cmd.set_defaults(handler=compile_kubeflow)

    submit = commands.add_parser("submit", help="upload a compiled spec to Kubeflow Pipelines and start a run")
    submit.add_argument("--host", required=True, help="KFP API endpoint, e.g. http://localhost:8080 after "
                        "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`")
    submit.add_argument("--spec", required=True, help="YAML spec written by compile-kubeflow")
    submit.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help=f"experiment to file the run under (default {DEFAULT_EXPERIMENT})")
    submit.add_argument("--run-name", help="run name (default: spec file name and time)")
    submit.add_argument("--pipeline-root", help="where the run keeps artifacts: minio://, gs:// or s3:// URI (default: the "
                        "spec's, from compile-kubeflow --pipeline-root; KFP itself never reads the spec's)")
    submit.add_argument("--namespace", help="Kubeflow profile namespace (multi-user installs only)")
    submit.add_argument("--service-account", default=RUNNER_SERVICE_ACCOUNT, help=f"service account of the run's pods (default {RUNNER_SERVICE_ACCOUNT}, "
                        "from kubernetes/rbac.yaml; '' for KFP's own default account)")
    submit.add_argument("--no-cache", action="store_true", help="re-run every task (default: the spec's caching; ServingBaseline always runs)")
    submit.add_argument("--skip-stale-check", action="store_true", help="do not recompile this checkout to compare with the spec")
    submit.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the host to answer (default 10)")
    when = submit.add_mutually_exclusive_group()
    when.add_argument("--every", metavar="INTERVAL", help="create a recurring run instead, every INTERVAL: a count and "
                      "a unit of s, m, h, d (30m, 6h, 1d, 7d); each run takes the newest span present, at most one "
                      "runs at a time, missed times are not caught up")
    when.add_argument("--cron", metavar="EXPR", help="create a recurring run instead, at the times of a six-field cron "
                      "(second minute hour day-of-month month day-of-week, as KFP's robfig/cron: '0 0 6 * * *' "
                      "is 06:00 daily, in the scheduled-workflow controller's time zone: its $CRON_SCHEDULE_TIMEZONE, else the pod's)")
    submit.add_argument("--span", help="the newest span of the run's window, by folder name (span-3, 2024-06-01): "
                        "a backfill (default: the spec's, normally the newest span present at run time)")
    submit.add_argument("--window-spans", type=int, metavar="N", help="train and evaluate on the newest N spans up to "
                        "the run's span (0: all; default: the spec's)")
    submit.add_argument("--accept-drift", action="store_true", help="let this one run train on a span the drift gate "
                        "stops (its checks are still reported); needs --reason; not with --every or --cron")
    submit.add_argument("--reason", help="why drift is accepted (with --accept-drift), recorded in the drift report")
    submit.set_defaults(handler=submit_run)



def _cluster_path(name: str, value):
    if value and "://" not in value and not os.path.isabs(value):
        raise ConfigError(f"--{name} {value}: give the path as the component pods see it (absolute, e.g. /data/images) or a URI")
    return value


def compile_kubeflow(args) -> int:
    from pipeline.kubeflow import compiler as kfr
    from pipeline.config import build_config, load_yaml
    from pipeline.kubeflow.submit import check_pipeline_root

    if not args.output.endswith((".yaml", ".yml", ".json")):
        raise ConfigError(f"--output {args.output}: the spec file must end in .yaml (for `submit`) or .json (Vertex AI)")
    check_pipeline_root(args.pipeline_root)
    pull_policy = kfr.image_pull_policy(args.image)  # a malformed digest is refused before the compile
    from_file = load_yaml(args.config) if args.config else {}
    overrides = {
        # Explicit, so $DATA_DIR (a path on this machine) never leaks into the spec.
        "data_dir": _cluster_path("data-dir", args.data_dir or from_file.get("data_dir") or kfr.DEFAULT_DATA_DIR),
        "serving_dir": _cluster_path("serving-dir", args.serving_dir),
        "golden_dir": _cluster_path("golden-dir", args.golden_dir),
        "schema_path": args.schema_path or from_file.get("schema_path") or DEFAULT_SCHEMA,
        "enable_cache": args.enable_cache,
    }
    if args.beam_args is not None:
        overrides["beam_args"] = shlex.split(args.beam_args)
    config = build_config(args.config, **overrides)
    target = kfr.KubeflowTarget(image=args.image, pipeline_root=args.pipeline_root, data_pvc=args.data_pvc, serving_pvc=args.serving_pvc)
    print(f"compiling {config.pipeline_name} for {args.image} (schema {os.path.relpath(config.schema_path)})", flush=True)
    started = time.monotonic()
    spec, platform, job = kfr.compile_spec(config, target)
    kfr.write_spec(args.output, spec, platform, job)
    tasks = spec["root"]["dag"]["tasks"]
    print(f"wrote {args.output}: {len(tasks)} components in {time.monotonic() - started:.1f}s")
    print(f"  pipeline root: {spec['defaultPipelineRoot']}")
    cached = sorted(name for name, task in tasks.items() if task.get("cachingOptions", {}).get("enableCache"))
    print(f"  KFP caching: {'on, except ' + ', '.join(kfr.NEVER_CACHED) if cached else 'off'}")
    mounts = platform.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
    for label, executor in sorted(mounts.items()):
        for mount in executor.get("pvcMount", []):
            print(f"  {label.replace('_executor', '')}: volume {mount['constant']} at {mount['mountPath']}")
    if pull_policy == "Always":
        print(f"  image by tag: pods pull {args.image} at every start (imagePullPolicy Always)")
        print("  note: KFP's cache key holds the image string, not its digest, so tasks cached before a rebuild stay "
              "cached; for the cache to follow code changes, compile with --image NAME@sha256:... "
              "(`make kubeflow-image` prints a local build's digest, a push the registry's)")
    else:
        print("  image by digest: imagePullPolicy IfNotPresent (a digest never changes); a new build is a new cache key")
    if args.output.endswith(".json"):
        print("  note: a JSON spec carries no volume mounts (KFP's client uploads YAML); use it for Vertex AI")
    else:
        print(f"  next: transfer-pipeline submit --host URL --spec {args.output}")
    return 0


def check_reachable(host: str, timeout: float) -> None:
    """Fails fast, naming the host, when nothing answers there."""
    url = urlparse(host)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"--host {host}: give the KFP endpoint as a URL, e.g. http://localhost:8080")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return
    except ConnectionRefusedError:
        reason = f"connection refused (nothing listens on {url.hostname}:{port}; is `kubectl port-forward` running?)"
    except socket.timeout:
        reason = f"no answer from {url.hostname}:{port} within {timeout:g}s (timed out)"
    except socket.gaierror as err:
        reason = f"cannot resolve {url.hostname} ({err.strerror})"
    except OSError as err:
        reason = f"{err.strerror or err} ({url.hostname}:{port})"
    raise ConfigError(f"cannot reach Kubeflow Pipelines at {host}: {reason}")


def submit_run(args) -> int:
    from pipeline.kubeflow import compiler as kfr
    from pipeline.kubeflow.schedule import check_cron, interval_seconds
    from pipeline.kubeflow.submit import Schedule, create_schedule, run_parameters, run_pipeline_root, start_run

    if not args.spec.endswith((".yaml", ".yml")):
        raise ConfigError(f"--spec {args.spec}: KFP's client uploads YAML; compile with `compile-kubeflow --output FILE.yaml`")
    schedule = None
    if args.every is not None:
        schedule = Schedule(interval_seconds=interval_seconds(args.every))
    elif args.cron is not None:
        schedule = Schedule(cron=check_cron(args.cron))
    if schedule and args.span:
        raise ConfigError(f"--span {args.span} with {'--every' if args.every else '--cron'}: a recurring run always takes "
                          "the newest span present (KFP passes no scheduled time to a v2 pipeline's parameters); "
                          "backfill a span with one run: submit --span NAME, without --every or --cron")
    if schedule and args.accept_drift:
        raise ConfigError(f"--accept-drift with {'--every' if args.every else '--cron'}: every run of the schedule would "
                          "accept drift, for as long as it runs; accept drift for one run: submit --accept-drift "
                          "--reason TEXT, without --every or --cron")
    spec, _ = kfr.read_spec(args.spec)  # a missing or broken file is reported before anything else
    pipeline_root = run_pipeline_root(args.spec, spec, args.pipeline_root)
    parameters = run_parameters(args.spec, spec, span=args.span, window_spans=args.window_spans, newest=schedule is not None,
                                accept_drift=args.accept_drift, reason=args.reason)
    if not args.skip_stale_check:
        print(f"checking {args.spec} against this checkout (recompiling with its settings)", flush=True)
        settings = kfr.check_spec_current(args.spec)
        print(f"  current: fingerprint {settings['fingerprint'][:16]}, image {settings['target']['image']}")
    check_reachable(args.host, args.timeout)
    options = dict(experiment=args.experiment, pipeline_root=pipeline_root, namespace=args.namespace,
                   service_account=args.service_account, enable_caching=False if args.no_cache else None,
                   parameters=parameters)
    root_source = "--pipeline-root" if args.pipeline_root is not None else "from the spec"
    if schedule:
        name = args.run_name or f"{spec['pipelineInfo']['name']} {schedule}"
        recurring_run_id = create_schedule(args.host, args.spec, schedule, job_name=name, **options)
        window = f" (window of {parameters['window_spans']} spans)" if parameters.get("window_spans") else ""
        print(f"created recurring run {recurring_run_id} '{name}' (experiment {args.experiment})")
        print(f"  {schedule}, newest span present{window}, at most one run at a time, no catch-up")
        print(f"  pipeline root: {pipeline_root} ({root_source})")
        print(f"  watch: {args.host.rstrip('/')}/#/recurringrun/details/{recurring_run_id}")
        return 0
    run_id = start_run(args.host, args.spec, run_name=args.run_name, **options)
    print(f"submitted run {run_id} (experiment {args.experiment})")
    print(f"  pipeline root: {pipeline_root} ({root_source})")
    if parameters:
        print(f"  run parameters: {', '.join(f'{key}={value!r}' for key, value in sorted(parameters.items()))}")
    print(f"  watch: {args.host.rstrip('/')}/#/runs/details/{run_id}")
    return 0
