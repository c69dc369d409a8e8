"""One component pod of a KFP run, as a podman container of the project's image.

What KFP's pod has and the container gets the same way here: the image's own user
(kubernetes/Dockerfile: uid 10001; KFP sets no runAsUser by default), the scratch
emptyDirs KFP 2.3+ mounts (/minio, /gcs, /s3, /.local, /.cache, /.config:
argocompiler/container.go), the volume claims of the spec's platform section at their
mount paths, the task's CPU and memory limits, and no network (the image must need none).
One difference: /tmp/kfp_outputs and /tmp/kfp (the executor output and output parameter
files) are folders of this machine, read after the container is gone; KFP's launcher reads
them inside the pod.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from contextlib import nullcontext
from typing import Dict, List, Optional

from pipeline.config import ConfigError

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTAINERS_CONF = os.path.join(REPO_ROOT, "kubernetes", "rehearsal", "containers.conf")
# argocompiler/container.go (2.3 and later): emptyDir volumes mounted in every component pod.
SCRATCH_MOUNTS = ("/gcs", "/s3", "/minio", "/.local", "/.cache", "/.config")
# kubernetes/Dockerfile: USER 10001:10001, the owner KFP's launcher writes as.
POD_UID = 10001


class PodError(ConfigError):
    """podman is missing or cannot start pods; the message says what to install or fix (exit 2, one line)."""


@dataclasses.dataclass
class Pod:
    """A task's pod: its scratch folders on this machine, and the claims it mounts."""

    name: str
    folder: str  # on this machine: one sub-folder per scratch mount, plus the launcher's files
    claims: Dict[str, str]  # mount path in the pod -> folder on this machine

    def scratch(self, mount: str) -> str:
        return os.path.join(self.folder, "mounts", mount.strip("/").replace("/", "_") or "root")

    def host_path(self, pod_path: str) -> str:
        """Where a path inside the pod (under a scratch mount or /tmp/kfp_outputs) lies on this machine."""
        for mount in SCRATCH_MOUNTS + ("/tmp/kfp_outputs", "/tmp/kfp"):
            if pod_path == mount or pod_path.startswith(mount + "/"):
                return os.path.join(self.scratch(mount), pod_path[len(mount):].lstrip("/"))
        raise ValueError(f"{pod_path} is not on a scratch mount of pod {self.name}")

    def prepare(self) -> None:
        for mount in SCRATCH_MOUNTS + ("/tmp/kfp_outputs", "/tmp/kfp"):
            os.makedirs(self.scratch(mount), exist_ok=True)
        give_to_pod_user(os.path.join(self.folder, "mounts"))

    def remove_scratch(self) -> None:
        """The scratch folders (each task's downloaded inputs: 1.7 GB a rehearsal); the pod's log stays."""
        shutil.rmtree(os.path.join(self.folder, "mounts"), ignore_errors=True)

    def run(self, image: str, command: List[str], resources: dict, log_path: str, tee: Optional[str] = None,
            drop_capabilities: bool = False) -> "PodEnd":
        """Runs the task's command to the end; its output goes to log_path, and to `tee` as well (the
        launcher's executor-logs file, launcher_v2.go getLogWriter's io.MultiWriter). `drop_capabilities`:
        the user container's security context of KFP 2.16+ (argocompiler/security_context.go
        defaultUserContainerSecurityContext: no privilege escalation, every capability dropped)."""
        engine = podman()
        mounts = [f"--volume={self.scratch(m)}:{m}" for m in SCRATCH_MOUNTS + ("/tmp/kfp_outputs", "/tmp/kfp")]
        mounts += [f"--volume={host}:{path}" for path, host in sorted(self.claims.items())]
        limits = []
        if resources.get("memoryLimit"):  # KFP's unit is G (10^9 bytes): driver.go getPodResource, "%vG"
            memory = int(float(resources["memoryLimit"]) * 1e9)
            limits += [f"--memory={memory}", f"--memory-swap={memory}"]  # no swap, as on a Kubernetes node
        if resources.get("cpuLimit"):
            limits.append(f"--cpus={min(float(resources['cpuLimit']), os.cpu_count() or 1):g}")
        security = ["--cap-drop=all", "--security-opt=no-new-privileges"] if drop_capabilities else []
        argv = [engine, "run", f"--name={self.name}", f"--hostname={self.name[:63]}", "--network=none",
                *security, *limits, *mounts, image, *command]
        with open(log_path, "wb") as log, (open(tee, "ab") if tee else nullcontext()) as copy:
            # In the pod's folder: podman 4.3's conmon writes a file named `oom` into its working folder
            # when the kernel kills the container for memory (seen with cgroupfs on these machines).
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=podman_env(),
                                       cwd=self.folder)
            for line in process.stdout:
                log.write(line)
                if copy:
                    copy.write(line)
            exit_code = process.wait()
        inspected = subprocess.run([engine, "inspect", "--format", "{{.State.OOMKilled}}", self.name],
                                   capture_output=True, text=True, env=podman_env())
        subprocess.run([engine, "rm", "--force", self.name], capture_output=True, env=podman_env())
        oom = inspected.stdout.strip() == "true" or os.path.exists(os.path.join(self.folder, "oom"))
        if oom or (exit_code == 137 and resources.get("memoryLimit")):
            reason = f"OOMKilled: over its memory limit of {float(resources['memoryLimit']):g} G"
        elif exit_code == 0:
            reason = "Completed"
        else:
            reason = "Error"
        return PodEnd(exit_code, reason)


@dataclasses.dataclass
class PodEnd:
    """How the pod's container ended, as Kubernetes reports it (terminated state: exit code and reason)."""

    exit_code: int
    reason: str


def podman() -> str:
    engine = shutil.which("podman")
    if engine is None:
        raise PodError("podman is not installed; `make podman` installs it (Debian's podman and runc)")
    return engine


def podman_env() -> dict:
    """podman as measured to work here: runc, cgroupfs, ulimits below the host's (kubernetes/rehearsal/containers.conf)."""
    return dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF", CONTAINERS_CONF))


def image_exists(image: str) -> bool:
    return subprocess.run([podman(), "image", "exists", image], env=podman_env()).returncode == 0


def image_by_digest(image: str) -> str:
    """REPOSITORY@sha256:... of a local image named by tag: what `make kubeflow-image` says to compile with."""
    if "@" in image:
        return image
    found = subprocess.run([podman(), "image", "inspect", "--format", "{{.Digest}}", image], capture_output=True,
                           text=True, env=podman_env())
    digest = found.stdout.strip()
    if found.returncode != 0 or not digest.startswith("sha256:"):
        raise PodError(f"image {image}: podman knows no digest for it ({found.stderr.strip() or digest}); rebuild it with `make kubeflow-image`")
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repository}@{digest}"


def give_to_pod_user(path: str) -> None:
    """The pod's user must write what KFP lets it write (scratch, claims): chown as volume-setup.yaml does."""
    for root, folders, files in os.walk(path):
        os.chown(root, POD_UID, POD_UID)
        for name in files:
            os.chown(os.path.join(root, name), POD_UID, POD_UID)
