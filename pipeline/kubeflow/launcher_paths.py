"""Where KFP's launcher keeps each artifact inside a component pod: what the pods' entrypoint and the compiler must know of KFP.

backend/src/v2/component/launcher_v2.go LocalPathForURI (the same at tags 2.5.0 and 2.17.0):
the launcher downloads an input to, and uploads an output from, the folder its URI's scheme maps to.
"""
from __future__ import annotations

from typing import Optional

LOCAL_PREFIXES = {"gs://": "/gcs/", "minio://": "/minio/", "s3://": "/s3/"}


def local_path_for_uri(uri: str) -> Optional[str]:
    """launcher_v2.go LocalPathForURI: the artifact's local path in the pod, or None for a scheme it does not know."""
    for scheme, folder in LOCAL_PREFIXES.items():
        if uri.startswith(scheme):
            return folder + uri[len(scheme):]
    return None
