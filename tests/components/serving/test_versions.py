"""components/serving/versions.py: what TF Serving sees in the serving dir."""
import json
import os

from components.serving import versions as sv


def test_fingerprint_follows_the_bytes_not_the_location_nor_the_push_record(tmp_path, files_model):
    one = files_model(tmp_path / "a")
    same = files_model(tmp_path / "b")
    other = files_model(tmp_path / "c", content=b"another graph")
    with open(os.path.join(same, sv.PUSH_RECORD), "w") as handle:
        json.dump({"version": 1}, handle)
    assert sv.model_fingerprint(one) == sv.model_fingerprint(same) != sv.model_fingerprint(other)


def test_scan_lists_every_numbered_folder_and_tells_pushed_from_unmanaged(tmp_path, push, files_model):
    serving = tmp_path / "serving"
    pushed = push(serving, files_model(tmp_path / "model"))
    files_model(serving / "7")  # copied by hand: no push record
    files_model(serving / ".staging-5")  # an interrupted push
    os.makedirs(serving / "notes")

    folders = sv.scan(str(serving))

    assert [(f.version, f.managed) for f in folders] == [(7, False), (pushed.version, True)]
    assert sv.served_folder(folders).version == pushed.version  # the highest number, pushed or not
    assert sv.list_versions(str(serving)) == [pushed.version] and sv.latest_version(str(serving)) == pushed.version


def test_serving_state_changes_when_an_unmanaged_folder_appears(tmp_path, push, files_model):
    serving = tmp_path / "serving"
    assert sv.serving_state(str(serving)) == ""
    push(serving, files_model(tmp_path / "model"))
    before = sv.serving_state(str(serving))
    files_model(serving / "99999999999")
    assert before and sv.serving_state(str(serving)) != before
