"""The InputFingerprints task of the Kubeflow spec: what the run's inputs outside the object store hold now.

KFP's cache key holds a task's parameters, image, command and output specs
(cacheutils/cache.go GenerateCacheKey), never the content of a folder on a
volume or of a file in the image. So ingestion would be a cache hit on a folder
with new images, and the schema import on an edited schema under the same image
tag. This task runs in every run (never cached) and hands two output parameters
to those tasks: a fingerprint of the data (path, size, mtime, ctime of each
file) and the sha256 of the schema file. Their cache keys then change exactly
when the data or the schema does. For image folders the data fingerprint is
ImageFolderExampleGen's own (components/ingestion/folder_scan.py
folder_fingerprint over scan_image_folder): in a data dir of spans it covers
the run's window alone (its run parameters span and window_spans), so a new
span moves it and a file added to a span outside the window does not. That is
what keeps a recurring run's cache honest: its span parameter is the same ""
(the newest present) every time, while the window it names moves. For ready
TFRecords (ImportExampleGen) it covers every file under the data dir. A golden
folder (setting golden_dir) is fingerprinted too, as the ExampleGen's driver does.

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

from components.ingestion.folder_scan import DataError, files_fingerprint, folder_fingerprint, scan_image_folder
from components.ingestion.golden_set import golden_fingerprint

DATA_FINGERPRINT, SCHEMA_FINGERPRINT = "data_fingerprint", "schema_fingerprint"


def data_fingerprint(data_dir: str) -> str:
    """Every file under data_dir (ready TFRecords)."""
    _check_data_dir(data_dir)
    files = [os.path.relpath(os.path.join(root, name), data_dir) for root, _, names in os.walk(data_dir) for name in names]
    return f"{len(files)} files:sha256:{files_fingerprint(data_dir, files)}"


def window_fingerprint(data_dir: str, group_pattern: str, span: str, window_spans: int) -> str:
    """The files of the window's spans, as ImageFolderExampleGen's driver fingerprints them."""
    _check_data_dir(data_dir)
    try:
        scan = scan_image_folder(data_dir, group_pattern, window_spans=int(window_spans), span=span)
    except DataError as err:
        raise SystemExit(f"error: {err}") from None
    return folder_fingerprint(scan)


def _check_data_dir(data_dir: str) -> None:
    if not os.path.isdir(data_dir):
        raise SystemExit(f"error: data dir {data_dir} does not exist in this pod; copy the class folders onto the data "
                         "volume (kubernetes/README.md, step 4) or compile with --data-dir set to where they are")


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
    if "span" in parameters:  # image folders: the compiler hands the window's run parameters
        data = window_fingerprint(parameters["data_dir"], parameters["group_pattern"], parameters["span"],
                                  parameters["window_spans"])
        if parameters.get("golden_dir"):
            try:
                data += " " + golden_fingerprint(parameters["golden_dir"], parameters["group_pattern"])
            except DataError as err:
                raise SystemExit(f"error: {err}") from None
    else:
        data = data_fingerprint(parameters["data_dir"])
    values = {
        DATA_FINGERPRINT: data,
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
