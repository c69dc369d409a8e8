"""pipeline/kubeflow/launcher_paths.py: where KFP's launcher keeps an artifact inside the pod."""
import pytest

from pipeline.kubeflow.launcher_paths import local_path_for_uri


@pytest.mark.parametrize("uri, local", [
    ("minio://mlpipeline/v2/a/b", "/minio/mlpipeline/v2/a/b"),
    ("gs://bucket/a", "/gcs/bucket/a"),
    ("s3://bucket/a", "/s3/bucket/a"),
    ("/already/local", None),
])
def test_artifact_uris_map_to_the_launchers_local_folders(uri, local):
    assert local_path_for_uri(uri) == local
