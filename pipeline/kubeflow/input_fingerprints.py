"""The InputFingerprints task of the Kubeflow spec: what the run's inputs outside the object store hold now.

KFP's cache key holds a task's parameters, image, command and output specs
(cacheutils/cache.go GenerateCacheKey), never the content of a folder on a
volume or of a file in the image. So ingestion would be a cache hit on a folder
with new images, and the schema import on an edited schema under the same image
tag. This task runs in every run (never cached) and hands two output parameters
to those tasks: a fingerprint of every file under the data dir (path, size,
mtime, ctime) and the sha256 of the schema file. Their cache keys then change
exactly when the data or the schema does.

Command: python -m pipeline.kubeflow.input_fingerprints --executor_input '{{$}}'
(KFP's executor input; the output parameters go to its output file).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from typing import List, Optional

from components.ingestion.folder_scan import files_fingerprint

DATA_FINGERPRINT, SCHEMA_FINGERPRINT = "data_fingerprint", "schema_fingerprint"


def data_fingerprint(data_dir: str) -> str:
    if not os.path.isdir(data_dir):
        raise SystemExit(f"error: data dir {data_dir} does not exist in this pod; copy the class folders onto the data "
                         "volume (kubernetes/README.md, step 4) or compile with --data-dir set to where they are")
    files = [os.path.relpath(os.path.join(root, name), data_dir) for root, _, names in os.walk(data_dir) for name in names]
    return f"{len(files)} files:sha256:{files_fingerprint(data_dir, files)}"


def schema_fingerprint(schema_file: str) -> str:
    try:
        with open(schema_file, "rb") as handle:
            return "sha256:" + hashlib.sha256(handle.read()).hexdigest()
    except OSError as err:
        raise SystemExit(f"error: schema {schema_file} cannot be read in this image ({err.strerror}); build the image "
                         "from the checkout the spec was compiled from") from None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor_input", required=True, help="KFP's executor input, as JSON")
    executor_input = json.loads(parser.parse_args(argv).executor_input)
    parameters = executor_input["inputs"]["parameterValues"]
    values = {
        DATA_FINGERPRINT: data_fingerprint(parameters["data_dir"]),
        SCHEMA_FINGERPRINT: schema_fingerprint(parameters["schema_file"]),
    }
    output_file = executor_input["outputs"]["outputFile"]
    os.makedirs(os.path.dirname(output_file), exist_ok=True)
    with open(output_file, "w") as handle:
        json.dump({"parameterValues": values}, handle)
    for name, value in values.items():
        print(f"{name}: {value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
