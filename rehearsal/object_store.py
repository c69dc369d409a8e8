"""KFP's object store as its launcher uses it: objects named by keys, written file by file, read by prefix.

backend/src/v2/objectstore/object_store.go (tags 2.5.0 and 2.17.0):
- UploadBlob walks a local folder and uploads each file as one object; a folder is
  no object, so an empty folder is not stored at all, and a missing local path is
  an error (which launcher_v2.go uploadOutputArtifacts forgives: "We allow
  components to not produce output files").
- DownloadBlob lists every object whose key starts with the artifact's key, with
  no trailing slash, and writes each to filepath.Join(localDir, filepath.Rel(key
  prefix, object key)); a prefix that names no object downloads nothing, with no
  error. At 2.5.0 an input `.../model` also brings its sibling `.../model_run`;
  2.17.0 skips keys not under `key/` (isBlobKeyUnderPrefix).
Here a bucket is a folder, DIR/<scheme>/<bucket>, holding each object as a file at
its key. A key that is also the folder of other keys cannot be a file here (an
object store allows it); the store says so rather than lose either.
"""
from __future__ import annotations

import os
import shutil
from typing import List, Tuple

from pipeline.kubeflow.launcher_paths import LOCAL_PREFIXES


class ObjectStoreError(RuntimeError):
    """An upload or download KFP's launcher would fail on (the message quotes KFP's own where it has one)."""


def bucket_and_key(uri: str) -> Tuple[str, str]:
    """objectstore.ParseBucketConfigForArtifactURI and Config.KeyFromURI: ("<scheme>/<bucket>", key)."""
    for scheme in LOCAL_PREFIXES:
        if uri.startswith(scheme):
            bucket, _, key = uri[len(scheme):].partition("/")
            return f"{scheme[:-3]}/{bucket}", key.strip("/")
    raise ObjectStoreError(f"parse bucket config failed: unsupported Cloud bucket: {uri}")


class ObjectStore:
    """Every bucket under one folder, as one KFP install's MinIO (or S3, GCS) holds them."""

    def __init__(self, root: str):
        self.root = root

    def _object_path(self, bucket: str, key: str) -> str:
        return os.path.join(self.root, bucket, *key.split("/"))

    def keys(self, uri: str) -> List[str]:
        """bucket.List(&blob.ListOptions{Prefix: key}): every object key that starts with the URI's key, in key order."""
        bucket, prefix = bucket_and_key(uri)
        top = os.path.join(self.root, bucket)
        found = []
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in files:
                key = os.path.relpath(os.path.join(folder, name), top).replace(os.sep, "/")
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    def upload_blob(self, local_path: str, uri: str) -> int:
        """object_store.go UploadBlob: the file, or every file under the folder; returns how many objects were written.

        Raises FileNotFoundError for a missing local path (Go's os.ErrNotExist, which the caller may forgive).
        """
        if not os.path.exists(local_path):
            raise FileNotFoundError(f"unable to stat local filepath {local_path!r}")
        bucket, key = bucket_and_key(uri)
        if os.path.isfile(local_path):
            self._put(local_path, bucket, key)
            return 1
        written = 0
        for folder, dirs, files in os.walk(local_path):
            dirs.sort()
            for name in sorted(files):
                source = os.path.join(folder, name)
                relative = os.path.relpath(source, local_path).replace(os.sep, "/")
                self._put(source, bucket, f"{key}/{relative}")
                written += 1
        return written

    def _put(self, source: str, bucket: str, key: str) -> None:
        target = self._object_path(bucket, key)
        if os.path.isdir(target):
            raise ObjectStoreError(f"object {key} is also the prefix of other objects; the rehearsal's folder store "
                                   "cannot hold both (an object store can)")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)

    def download_blob(self, uri: str, local_dir: str, siblings: bool = False) -> int:
        """object_store.go DownloadBlob: each listed object to Join(localDir, Rel(prefix, key)); returns how many.

        `siblings`: 2.5.0 writes every key the prefix matches (`.../model` brings `.../model_run/...` to
        localDir/../model_run); 2.17 keeps the key itself and keys under key + "/" (isBlobKeyUnderPrefix).
        """
        bucket, prefix = bucket_and_key(uri)
        count = 0
        for key in self.keys(uri):
            if not siblings and key != prefix and not key.startswith(prefix + "/"):
                continue
            target = os.path.normpath(os.path.join(local_dir, os.path.relpath(key, prefix)))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(self._object_path(bucket, key), target)
            count += 1
        return count
