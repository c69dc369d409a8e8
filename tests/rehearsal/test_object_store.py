"""rehearsal/object_store.py: KFP's object store as its launcher uses it (backend/src/v2/objectstore/object_store.go)."""
import os

import pytest

from rehearsal.object_store import ObjectStore, ObjectStoreError, bucket_and_key

TASK = "minio://mlpipeline/v2/artifacts/p/run-1/Trainer/u1"


def write(path, text="x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def test_the_key_is_the_uri_past_its_bucket():
    # config.go ParseBucketConfigForArtifactURI / KeyFromURI
    assert bucket_and_key(f"{TASK}/model") == ("minio/mlpipeline", "v2/artifacts/p/run-1/Trainer/u1/model")
    assert bucket_and_key("s3://b/k/") == ("s3/b", "k")
    with pytest.raises(ObjectStoreError, match="unsupported Cloud bucket"):
        bucket_and_key("/data/images")


def test_upload_stores_files_only_so_an_empty_folder_vanishes(tmp_path):
    # UploadBlob: a folder is walked and each file uploaded; a folder is no object
    model = tmp_path / "pod" / "model"
    write(str(model / "Format-Serving" / "saved_model.pb"))
    os.makedirs(model / "Format-Serving" / "assets")  # a SavedModel's empty assets/
    os.makedirs(tmp_path / "pod" / "pushed_model")  # a Pusher that pushed nothing
    store = ObjectStore(str(tmp_path / "store"))

    assert store.upload_blob(str(model), f"{TASK}/model") == 1
    assert store.upload_blob(str(tmp_path / "pod" / "pushed_model"), f"{TASK}/pushed_model") == 0
    assert store.keys(f"{TASK}/") == ["v2/artifacts/p/run-1/Trainer/u1/model/Format-Serving/saved_model.pb"]
    copy = tmp_path / "next-pod"
    store.download_blob(f"{TASK}/model", str(copy / "model"))
    assert os.listdir(copy / "model" / "Format-Serving") == ["saved_model.pb"]  # no assets/


def test_a_missing_local_output_is_an_error_the_launcher_may_forgive(tmp_path):
    # UploadBlob: os.Stat fails with ErrNotExist; uploadOutputArtifacts: "We allow components to not produce output files"
    with pytest.raises(FileNotFoundError):
        ObjectStore(str(tmp_path / "store")).upload_blob(str(tmp_path / "nothing"), f"{TASK}/model")


def test_download_by_a_prefix_with_no_objects_makes_nothing_and_raises_nothing(tmp_path):
    # DownloadBlob: the listing is empty, nil is returned, no local folder is made
    assert ObjectStore(str(tmp_path / "store")).download_blob(f"{TASK}/pushed_model", str(tmp_path / "pushed_model")) == 0
    assert not (tmp_path / "pushed_model").exists()


def test_a_single_file_artifact_is_downloaded_at_its_own_path(tmp_path):
    # DownloadBlob: Rel(key, key) is ".", so the file lands at localDir itself
    write(str(tmp_path / "report"), "<!doctype html>")
    store = ObjectStore(str(tmp_path / "store"))
    store.upload_blob(str(tmp_path / "report"), f"{TASK}/report")
    store.download_blob(f"{TASK}/report", str(tmp_path / "copy"))
    assert (tmp_path / "copy").read_text() == "<!doctype html>"


def test_the_prefix_has_no_trailing_slash_so_2_5_brings_siblings_and_2_17_does_not(tmp_path):
    # 2.5.0 DownloadBlob: bucket.List(Prefix: key); 2.17.0 isBlobKeyUnderPrefix keeps key and key + "/"
    for name in ("model", "model_run"):
        write(str(tmp_path / "pod" / name / "file"))
    store = ObjectStore(str(tmp_path / "store"))
    for name in ("model", "model_run"):
        store.upload_blob(str(tmp_path / "pod" / name), f"{TASK}/{name}")

    store.download_blob(f"{TASK}/model", str(tmp_path / "old" / "model"), siblings=True)
    store.download_blob(f"{TASK}/model", str(tmp_path / "new" / "model"), siblings=False)

    assert sorted(os.listdir(tmp_path / "old")) == ["model", "model_run"]  # written at localDir/../model_run
    assert os.listdir(tmp_path / "new") == ["model"]
