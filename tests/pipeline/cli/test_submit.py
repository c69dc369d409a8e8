"""`transfer-pipeline submit` (pipeline/cli/kubeflow.py, pipeline/kubeflow/submit.py) against Kubeflow Pipelines' REST API.

The CLI runs as users run it and talks HTTP to a local server that answers the v2beta1 API as KFP 2.0.5's API
server does, for the calls kfp 2.5.0's Client.create_run_from_pipeline_package makes (kfp/client/client.py):
GET /apis/v2beta1/healthz (Client.__init__ -> get_kfp_healthz, when no namespace is set), GET
/apis/v2beta1/experiments (get_experiment: a display_name filter), POST /apis/v2beta1/experiments
(create_experiment, when none is found) and POST /apis/v2beta1/runs (run_pipeline: the spec embedded in the
body); `submit --every/--cron` makes Client.create_experiment's two calls and POST /apis/v2beta1/recurringruns
(Client.create_recurring_run, the spec embedded too). The client uploads no pipeline; any other call is
answered 404 and shows in the recorded requests.
"""
import json
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import kfp
import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

import pipeline.local.runner  # noqa: F401  (heavy TFX imports and their warnings happen here, not in captured output)
from pipeline.cli.kubeflow import RUNNER_SERVICE_ACCOUNT
from pipeline.cli.main import main
from pipeline.kubeflow.schedule import robfig_cron_problem

IMAGE = "registry.example.com/transfer-pipeline:9.9.9"
ROOT = "s3://transfer-artifacts/pipeline-root"
EXPERIMENT = "root-check"
CREATE_RUN = ("POST", "/apis/v2beta1/runs")
CREATE_RECURRING_RUN = ("POST", "/apis/v2beta1/recurringruns")

# --- KFP 2.0.5's API server (kubeflow/pipelines tag 2.0.5), as far as these calls reach it ---

# grpc-gateway v1.16 (runtime.HTTPStatusFromCode): InvalidArgument, NotFound, AlreadyExists, Internal.
HTTP_STATUS = {3: 400, 5: 404, 6: 409, 13: 500}
NOW = "2024-01-01T00:00:00Z"


def refusal(code: int, message: str):
    """An error as grpc-gateway v1.16's runtime.DefaultHTTPError writes it (backend/src/apiserver/main.go uses its mux)."""
    return HTTP_STATUS[code], {"error": message, "code": code, "message": message}


def spec_problem(embedded: dict):
    """backend/src/apiserver/server/api_util.go pipelineSpecStructToYamlString (the spec alone, or pipeline_spec
    plus platform_spec), then template/v2_template.go NewV2SpecTemplate's checks; None when KFP takes it."""
    documents = [embedded["pipeline_spec"], embedded.get("platform_spec")] if "pipeline_spec" in embedded else [embedded]
    try:
        spec = json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec())  # protojson.Unmarshal
        if documents[1:] and documents[1] is not None:
            json_format.ParseDict(documents[1], pipeline_spec_pb2.PlatformSpec())
    except json_format.ParseError as err:
        return f"invalid v2 pipeline spec: {err}"
    if spec.schema_version != "2.1.0":  # template.go SCHEMA_VERSION_2_1_0
        return f"KFP only supports schema version 2.1.0, but the pipeline spec has version {spec.schema_version}"
    if not spec.pipeline_info.name:
        return "invalid v2 pipeline spec: name is empty"
    if not spec.HasField("root"):
        return "invalid v2 pipeline spec: root component is empty"
    return None


class KfpApi:
    """Single-user KFP: its experiments and runs, and every request it was sent (method, path, query, body)."""

    def __init__(self):
        self.requests, self.experiments, self.runs, self.recurring_runs = [], {}, {}, {}
        self.host = ""

    def answer(self, method: str, path: str, query: dict, body):
        routes = {
            ("GET", "/apis/v2beta1/healthz"): self.healthz,
            ("GET", "/apis/v2beta1/experiments"): self.list_experiments,
            ("POST", "/apis/v2beta1/experiments"): self.create_experiment,
            CREATE_RUN: self.create_run,
            CREATE_RECURRING_RUN: self.create_recurring_run,
        }
        if (method, path) not in routes:
            return refusal(5, "Not Found")
        if method == "POST" and not isinstance(body, dict):
            return refusal(3, "invalid character in request body: not a JSON object")
        return routes[method, path](query, body)

    def healthz(self, query, body):
        # main.go startHttpProxy writes this body by hand; multi_user is false on a single-user install.
        return 200, {"commit_sha": "unknown", "tag_name": "unknown", "multi_user": False}

    def list_experiments(self, query, body):
        predicates = json.loads(query.get("filter", ["{}"])[0]).get("predicates", [])
        found = list(self.experiments.values())
        for predicate in predicates:
            if predicate.get("key") != "display_name" or predicate.get("operation") not in (1, "EQUALS"):
                return refusal(3, f"this emulator only filters on display_name EQUALS, got {predicate}")
            found = [e for e in found if e["display_name"] == predicate.get("stringValue", predicate.get("string_value"))]
        # grpc-gateway's JSONPb (OrigName, no EmitDefaults) leaves empty fields out: no match is {}.
        return 200, ({"experiments": found, "total_size": len(found)} if found else {})

    def create_experiment(self, query, body):
        name = body.get("display_name")
        if not name:  # api_converter.go toModelExperiment
            return refusal(13, "Failed to create a v2beta1 experiment due to conversion error: "
                               "InternalServerError: Failed to convert API experiment to model experiment: "
                               "Invalid input error: Experiment must have a non-empty name")
        if any(e["display_name"] == name for e in self.experiments.values()):  # experiment_store.go: unique name
            return refusal(6, f"Failed to create a new experiment: Already exist error: Experiment with name {name} already exists")
        experiment = {"experiment_id": str(uuid.uuid4()), "display_name": name, "created_at": NOW, "storage_state": "AVAILABLE"}
        self.experiments[experiment["experiment_id"]] = experiment
        return 200, experiment

    def create_run(self, query, body):
        # run_server.go CreateRun: api_converter.go toModelRun, RunServer.createRun, then resource_manager.go CreateRun.
        if not body.get("display_name"):
            return refusal(13, "Failed to create a run due to conversion error: Run name cannot be empty")
        experiment_id = body.get("experiment_id")
        if experiment_id and experiment_id not in self.experiments:  # GetValidExperimentNamespacePair
            return refusal(5, f"Failed to create a new run: Failed to fetch namespace for experiment {experiment_id}: "
                              f"ResourceNotFoundError: Experiment {experiment_id} not found")
        fetching = "Failed to create a new run: InternalServerError: Failed to create a run due to error fetching manifest: "
        if body.get("pipeline_version_reference"):  # fetchPipelineVersionFromPipelineSpec: no pipeline was uploaded here
            return refusal(13, fetching + "Failed to fetch a template due to error retrieving pipeline version: "
                               f"pipeline version {body['pipeline_version_reference']} not found")
        if not body.get("pipeline_spec"):  # fetchTemplateFromPipelineSpec
            return refusal(13, fetching + "Invalid input error: Failed to fetch a template with an empty pipeline spec manifest")
        problem = spec_problem(body["pipeline_spec"])
        if problem:
            return refusal(13, fetching + f"Failed to fetch a template with an invalid pipeline spec manifest: "
                                          f"InvalidInputError: {problem}: pipeline spec is invalid")
        run = dict(body, run_id=str(uuid.uuid4()), experiment_id=experiment_id or "default", state="PENDING",
                   storage_state="AVAILABLE", created_at=NOW, scheduled_at=NOW,
                   service_account=body.get("service_account") or "pipeline-runner")
        self.runs[run["run_id"]] = run
        return 200, run


    def create_recurring_run(self, query, body):
        # job_server.go CreateRecurringRun: api_converter.go toModelJob, JobServer.createJob, then
        # resource_manager.go CreateJob (fetchTemplateFromPipelineSpec, as for a run).
        converting = "Failed to create a recurring run due to conversion error: "
        if not body.get("display_name"):
            return refusal(13, converting + "Failed to convert a API recurring run to its internal representation: "
                                            "InternalServerError: Recurring run's name cannot be empty")
        trigger = body.get("trigger") or {}
        kinds = [kind for kind in ("cron_schedule", "periodic_schedule") if kind in trigger]
        if len(kinds) != 1:
            # KFP takes either: with no trigger the controller starts one run (scheduled_workflow.go
            # getNextScheduledEpochForOneTimeRun), with both template.go modelToCRDTrigger keeps the cron.
            # Neither is a schedule this CLI means to create, so the emulator refuses both.
            return refusal(3, f"this emulator takes a trigger of exactly one kind, got {sorted(trigger) or 'none'}")
        max_concurrency = int(body.get("max_concurrency") or 0)  # int64: protojson takes a number or a string; absent is 0
        if not 1 <= max_concurrency <= 10:
            return refusal(3, converting + "Invalid input error: Max concurrency of a recurring run must be at leas 1 "
                                           f"and at most 10. Received {max_concurrency}")  # KFP 2.0.5's spelling
        if kinds == ["cron_schedule"]:
            problem = robfig_cron_problem(trigger["cron_schedule"].get("cron", ""))  # cron.Parse, robfig/cron v1.2.0
            if problem:
                return refusal(3, converting + "Invalid input error: Schedule cron is not a supported "
                                               f"format(https://godoc.org/github.com/robfig/cron). Error: {problem}")
        else:
            interval = int(trigger["periodic_schedule"].get("interval_second") or 0)
            if interval < 1:
                return refusal(3, converting + f"Invalid input error: Found invalid period schedule interval {interval}. "
                                               "Set at interval to least 1 second")
        experiment_id = body.get("experiment_id")
        if experiment_id and experiment_id not in self.experiments:  # createJob: GetValidExperimentNamespacePair
            return refusal(5, "Failed to create a recurring run: Failed to create a recurring run due to invalid "
                              f"experimentId and namespace combination: ResourceNotFoundError: Experiment {experiment_id} not found")
        manifest = "Failed to create a recurring run: InternalServerError: Failed to create a recurring run with an invalid pipeline spec manifest: "
        if not body.get("pipeline_spec"):
            return refusal(13, manifest + "Invalid input error: Failed to fetch a template with an empty pipeline spec manifest")
        problem = spec_problem(body["pipeline_spec"])
        if problem:
            return refusal(13, manifest + f"Failed to fetch a template with an invalid pipeline spec manifest: "
                                          f"InvalidInputError: {problem}: pipeline spec is invalid")
        # api_converter.go toApiRecurringRun: mode ENABLE is status ENABLED.
        recurring_run = dict(body, recurring_run_id=str(uuid.uuid4()), experiment_id=experiment_id or "default",
                             status="ENABLED" if body.get("mode") == "ENABLE" else "DISABLED", created_at=NOW,
                             updated_at=NOW, namespace="kubeflow", max_concurrency=str(max_concurrency))
        self.recurring_runs[recurring_run["recurring_run_id"]] = recurring_run
        return 200, recurring_run


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        query = parse_qs(url.query, keep_blank_values=True)
        api = self.server.api
        api.requests.append({"method": self.command, "path": url.path, "query": query, "body": body})
        status, answer = api.answer(self.command, url.path, query, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, format, *args):  # quiet: the test reads api.requests
        pass


@pytest.fixture
def kfp_api():
    api = KfpApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.api = api
    api.host = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_local_kfp_context(tmp_path, monkeypatch):
    # kfp.Client reads ~/.config/kfp/context.json (namespace, auth cookie); this machine's must not steer the calls.
    monkeypatch.setattr(kfp.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "no-kfp-context.json"))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("spec") / "pipeline.yaml")
    assert main(["compile-kubeflow", "--output", path, "--image", IMAGE, "--pipeline-root", ROOT]) == 0
    return path


def submit(api, spec, *flags):
    return main(["submit", "--host", api.host, "--spec", spec, "--experiment", EXPERIMENT, "--skip-stale-check", *flags])


def one_error_line(capsys):
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line.startswith("error: ")]
    assert len(err) == 1, err
    return err[0]


def calls(api):
    return [(request["method"], request["path"]) for request in api.requests]


def test_the_run_gets_the_specs_pipeline_root_under_the_experiment_with_the_spec_embedded(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled) == 0

    assert calls(kfp_api) == [("GET", "/apis/v2beta1/healthz"), ("GET", "/apis/v2beta1/experiments"),
                              ("POST", "/apis/v2beta1/experiments"), CREATE_RUN]
    (experiment,), (run,) = kfp_api.experiments.values(), kfp_api.runs.values()
    body = kfp_api.requests[-1]["body"]
    assert body["runtime_config"]["pipeline_root"] == ROOT
    assert experiment["display_name"] == EXPERIMENT and body["experiment_id"] == experiment["experiment_id"]
    assert body["service_account"] == RUNNER_SERVICE_ACCOUNT
    with open(compiled) as handle:
        pipeline_doc, platform_doc = yaml.safe_load_all(handle)
    embedded = body["pipeline_spec"]
    assert json_format.ParseDict(embedded["pipeline_spec"], pipeline_spec_pb2.PipelineSpec()) == \
        json_format.ParseDict(pipeline_doc, pipeline_spec_pb2.PipelineSpec())
    assert json_format.ParseDict(embedded["platform_spec"], pipeline_spec_pb2.PlatformSpec()) == \
        json_format.ParseDict(platform_doc, pipeline_spec_pb2.PlatformSpec())
    out = capsys.readouterr().out
    assert f"submitted run {run['run_id']} (experiment {EXPERIMENT})" in out
    assert f"  pipeline root: {ROOT} (from the spec)" in out.splitlines()


def test_pipeline_root_flag_overrides_the_specs_root(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled, "--pipeline-root", "gs://other/root") == 0

    assert calls(kfp_api)[-1] == CREATE_RUN
    assert kfp_api.requests[-1]["body"]["runtime_config"]["pipeline_root"] == "gs://other/root"
    assert "  pipeline root: gs://other/root (--pipeline-root)" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("root", ["/local/path", "http://x"])
def test_a_pipeline_root_kfp_cannot_store_artifacts_in_exits_2_before_any_request(compiled, kfp_api, capsys, root):
    assert submit(kfp_api, compiled, "--pipeline-root", root) == 2

    line = one_error_line(capsys)
    assert line.startswith(f"error: --pipeline-root {root}: ") and "give a gs://, minio://, s3:// URI" in line
    assert kfp_api.requests == []


def test_a_run_kfp_refuses_exits_2_with_the_servers_reason(compiled, kfp_api, tmp_path, capsys):
    # A spec KFP 2.0.5 cannot run: the server answers HTTP 500 with its reason, as it does for any manifest problem.
    old_schema = tmp_path / "old-schema.yaml"
    old_schema.write_text(open(compiled).read().replace("schemaVersion: 2.1.0", "schemaVersion: 2.0.0"))

    assert submit(kfp_api, str(old_schema)) == 2

    line = one_error_line(capsys)
    assert f"Kubeflow Pipelines at {kfp_api.host} refused the run: HTTP 500 Internal Server Error: " in line
    assert "only supports schema version 2.1.0, but the pipeline spec has version 2.0.0" in line
    assert calls(kfp_api)[-1] == CREATE_RUN and kfp_api.runs == {}


@pytest.mark.parametrize("missing", [{}, {"pipeline_spec": {}}])
def test_the_emulated_server_refuses_a_run_with_neither_pipeline_spec_nor_version_reference(kfp_api, missing):
    # As KFP 2.0.5's resource_manager.go fetchTemplateFromPipelineSpec does; else a client that dropped the spec would pass.
    request = urllib.request.Request(f"{kfp_api.host}/apis/v2beta1/runs", method="POST",
                                     data=json.dumps({"display_name": "r", **missing}).encode())

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10)  # no $http_proxy

    assert refused.value.code == 500
    assert "empty pipeline spec manifest" in json.loads(refused.value.read())["message"]


def embedded_spec_is(compiled, embedded):
    with open(compiled) as handle:
        pipeline_doc, platform_doc = yaml.safe_load_all(handle)
    return (json_format.ParseDict(embedded["pipeline_spec"], pipeline_spec_pb2.PipelineSpec())
            == json_format.ParseDict(pipeline_doc, pipeline_spec_pb2.PipelineSpec())
            and json_format.ParseDict(embedded["platform_spec"], pipeline_spec_pb2.PlatformSpec())
            == json_format.ParseDict(platform_doc, pipeline_spec_pb2.PlatformSpec()))


def test_every_1d_creates_a_daily_recurring_run_one_at_a_time_without_catch_up_at_the_specs_root(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled, "--every", "1d") == 0

    assert calls(kfp_api) == [("GET", "/apis/v2beta1/healthz"), ("GET", "/apis/v2beta1/experiments"),
                              ("POST", "/apis/v2beta1/experiments"), CREATE_RECURRING_RUN]
    assert kfp_api.runs == {}
    (experiment,), (recurring_run,) = kfp_api.experiments.values(), kfp_api.recurring_runs.values()
    body = kfp_api.requests[-1]["body"]
    assert list(body["trigger"]) == ["periodic_schedule"] and int(body["trigger"]["periodic_schedule"]["interval_second"]) == 86400
    assert int(body["max_concurrency"]) == 1 and body["no_catchup"] is True and body["mode"] == "ENABLE"
    assert body["runtime_config"]["pipeline_root"] == ROOT
    assert body["experiment_id"] == experiment["experiment_id"] and experiment["display_name"] == EXPERIMENT
    assert body["service_account"] == RUNNER_SERVICE_ACCOUNT
    assert "span" not in body["runtime_config"].get("parameters", {})  # each run: the newest span present
    assert embedded_spec_is(compiled, body["pipeline_spec"])
    out = capsys.readouterr().out.splitlines()
    assert f"created recurring run {recurring_run['recurring_run_id']} '{body['display_name']}' (experiment {EXPERIMENT})" in out
    assert "  every 1d, newest span present, at most one run at a time, no catch-up" in out
    assert f"  pipeline root: {ROOT} (from the spec)" in out


def test_a_second_schedule_files_under_the_existing_experiment(compiled, kfp_api):
    assert submit(kfp_api, compiled, "--every", "7d") == 0
    assert submit(kfp_api, compiled, "--every", "6h", "--run-name", "four a day") == 0

    assert len(kfp_api.experiments) == 1 and calls(kfp_api).count(("POST", "/apis/v2beta1/experiments")) == 1
    first, second = kfp_api.recurring_runs.values()
    assert int(first["trigger"]["periodic_schedule"]["interval_second"]) == 604800
    assert second["display_name"] == "four a day" and int(second["trigger"]["periodic_schedule"]["interval_second"]) == 21600
    assert first["experiment_id"] == second["experiment_id"]


def test_cron_creates_a_recurring_run_at_the_crons_times(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled, "--cron", "0 0 6 * * *", "--pipeline-root", "gs://other/root") == 0

    body = kfp_api.requests[-1]["body"]
    assert calls(kfp_api)[-1] == CREATE_RECURRING_RUN and kfp_api.recurring_runs
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 6 * * *"}}
    assert int(body["max_concurrency"]) == 1 and body["no_catchup"] is True
    assert body["runtime_config"]["pipeline_root"] == "gs://other/root"
    assert "  at cron '0 0 6 * * *', newest span present, at most one run at a time, no catch-up" in capsys.readouterr().out


@pytest.mark.parametrize("flags, words", [
    (["--every", "1w"], "error: --every 1w: give a positive count and one unit of s, m, h, d"),
    (["--every", "0h"], "error: --every 0h: give a positive count"),
    (["--cron", "0 6 * * *"], "error: --cron '0 6 * * *': give six fields, second first"),
    (["--cron", "0 0 6 * * 8"], "error: --cron '0 0 6 * * 8': Kubeflow Pipelines would refuse it (End of range (8) above maximum (6): 8)"),
    (["--every", "1d", "--span", "span-2"], "error: --span span-2 with --every: a recurring run always takes the newest span present"),
    (["--cron", "0 0 6 * * *", "--span", "2024-06-01"], "error: --span 2024-06-01 with --cron: "),
])
def test_a_schedule_kfp_would_refuse_or_that_pins_a_span_exits_2_before_any_request(compiled, kfp_api, capsys, flags, words):
    assert submit(kfp_api, compiled, *flags) == 2

    assert one_error_line(capsys).startswith(words)
    assert kfp_api.requests == []


def test_every_and_cron_together_are_refused_by_the_parser(compiled, kfp_api, capsys):
    with pytest.raises(SystemExit) as stopped:
        submit(kfp_api, compiled, "--every", "1d", "--cron", "0 0 6 * * *")

    assert stopped.value.code == 2 and "argument --cron: not allowed with argument --every" in capsys.readouterr().err
    assert kfp_api.requests == []


def post(api, path, body):
    request = urllib.request.Request(f"{api.host}{path}", method="POST", data=json.dumps(body).encode())
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:  # no $http_proxy
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


@pytest.mark.parametrize("change, status, words", [
    ({"max_concurrency": "11"}, 400, "Max concurrency of a recurring run must be at leas 1 and at most 10. Received 11"),
    ({"max_concurrency": None}, 400, "Received 0"),
    ({"trigger": {"periodic_schedule": {"interval_second": "0"}}}, 400, "Found invalid period schedule interval 0"),
    ({"trigger": {"cron_schedule": {"cron": "0 0 6 * * * *"}}}, 400,
     "Schedule cron is not a supported format(https://godoc.org/github.com/robfig/cron). Error: Expected 5 to 6 fields, found 7"),
    ({"trigger": None}, 400, "this emulator takes a trigger of exactly one kind, got none"),
    ({"display_name": ""}, 500, "Recurring run's name cannot be empty"),
    ({"pipeline_spec": None}, 500, "empty pipeline spec manifest"),
    ({}, 200, ""),
])
def test_the_emulated_server_checks_a_recurring_run_as_kfp_does(compiled, kfp_api, change, status, words):
    with open(compiled) as handle:
        pipeline_doc, platform_doc = yaml.safe_load_all(handle)
    body = {"display_name": "nightly", "mode": "ENABLE", "max_concurrency": "1", "no_catchup": True,
            "trigger": {"cron_schedule": {"cron": "0 0 6 * *"}},  # five fields: KFP takes them (seconds first)
            "pipeline_spec": {"pipeline_spec": pipeline_doc, "platform_spec": platform_doc}}
    body = {key: value for key, value in dict(body, **change).items() if value is not None}

    code, answer = post(kfp_api, "/apis/v2beta1/recurringruns", body)

    assert code == status
    if status == 200:
        assert answer["recurring_run_id"] in kfp_api.recurring_runs and answer["status"] == "ENABLED"
    else:
        assert words in answer["message"] and kfp_api.recurring_runs == {}


def test_span_backfills_one_run_whose_runtime_parameters_name_the_span(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled, "--span", "span-2") == 0

    body = kfp_api.requests[-1]["body"]
    assert calls(kfp_api)[-1] == CREATE_RUN and kfp_api.recurring_runs == {}
    assert body["runtime_config"]["parameters"] == {"span": "span-2"}
    assert "  run parameters: span='span-2'" in capsys.readouterr().out.splitlines()


def test_window_spans_reaches_a_run_and_a_schedule_as_a_whole_number(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled, "--span", "2024-06-01", "--window-spans", "3") == 0
    assert kfp_api.requests[-1]["body"]["runtime_config"]["parameters"] == {"span": "2024-06-01", "window_spans": 3}

    assert submit(kfp_api, compiled, "--every", "1d", "--window-spans", "2") == 0
    assert kfp_api.requests[-1]["body"]["runtime_config"]["parameters"] == {"window_spans": 2}
    assert "  every 1d, newest span present (window of 2 spans), at most one run at a time, no catch-up" in capsys.readouterr().out


def test_a_negative_window_or_a_spec_without_run_parameters_exits_2_before_any_request(compiled, kfp_api, tmp_path, capsys):
    assert submit(kfp_api, compiled, "--window-spans", "-1") == 2
    assert one_error_line(capsys).startswith("error: --window-spans -1: give the number of newest spans")

    spec, platform = yaml.safe_load_all(open(compiled).read())
    del spec["root"]["inputDefinitions"]
    older = tmp_path / "older.yaml"
    older.write_text(yaml.safe_dump(spec) + "---\n" + yaml.safe_dump(platform))
    assert submit(kfp_api, str(older), "--span", "span-2") == 2
    assert one_error_line(capsys) == (f"error: {older} takes no run parameter span (span: it was compiled before spans "
                                      "were run parameters); recompile it with `compile-kubeflow`")
    assert kfp_api.requests == []


def test_a_schedule_of_a_spec_compiled_with_a_pinned_span_still_takes_the_newest(compiled, kfp_api, tmp_path):
    spec, platform = yaml.safe_load_all(open(compiled).read())
    spec["root"]["inputDefinitions"]["parameters"]["span"]["defaultValue"] = "span-1"  # as compiled with span: span-1
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(yaml.safe_dump(spec) + "---\n" + yaml.safe_dump(platform))

    assert submit(kfp_api, str(pinned), "--every", "1d") == 0
    assert kfp_api.requests[-1]["body"]["runtime_config"]["parameters"] == {"span": ""}
    assert submit(kfp_api, str(pinned)) == 0  # a single run keeps the compiled span
    assert kfp_api.requests[-1]["body"]["runtime_config"].get("parameters", {}) == {}


def test_accept_drift_with_a_reason_accepts_drift_for_this_one_run(compiled, kfp_api, capsys):
    assert submit(kfp_api, compiled, "--accept-drift", "--reason", "hand photographs are the product now") == 0

    body = kfp_api.requests[-1]["body"]
    assert calls(kfp_api)[-1] == CREATE_RUN and kfp_api.recurring_runs == {}
    assert body["runtime_config"]["parameters"] == {"accept_drift_reason": "hand photographs are the product now"}
    assert "  run parameters: accept_drift_reason='hand photographs are the product now'" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("flags, words", [
    (["--accept-drift"], "error: --accept-drift needs a reason: add --reason TEXT"),
    (["--accept-drift", "--reason", "  "], "error: --accept-drift needs a reason: add --reason TEXT"),
    (["--reason", "new camera"], "error: --reason was given without --accept-drift"),
    (["--accept-drift", "--reason", "hands", "--every", "1d"],
     "error: --accept-drift with --every: every run of the schedule would accept drift, for as long as it runs"),
    (["--accept-drift", "--reason", "hands", "--cron", "0 0 6 * * *"],
     "error: --accept-drift with --cron: every run of the schedule would accept drift"),
])
def test_accepting_drift_without_a_reason_or_for_a_schedule_exits_2_before_any_request(compiled, kfp_api, capsys, flags, words):
    assert submit(kfp_api, compiled, *flags) == 2

    assert one_error_line(capsys).startswith(words)
    assert kfp_api.requests == []


def test_accepting_drift_with_a_spec_that_has_no_drift_parameter_names_the_fix(compiled, kfp_api, tmp_path, capsys):
    spec, platform = yaml.safe_load_all(open(compiled).read())
    del spec["root"]["inputDefinitions"]["parameters"]["accept_drift_reason"]  # compiled before, or drift_gate off
    older = tmp_path / "older.yaml"
    older.write_text(yaml.safe_dump(spec) + "---\n" + yaml.safe_dump(platform))

    assert submit(kfp_api, str(older), "--accept-drift", "--reason", "hands") == 2

    line = one_error_line(capsys)
    assert line.startswith(f"error: {older} takes no run parameter accept_drift_reason (accept_drift_reason: it was "
                           "compiled before drift was accepted per run, or with drift_gate off")
    assert line.endswith("recompile it with `compile-kubeflow`") and kfp_api.requests == []
