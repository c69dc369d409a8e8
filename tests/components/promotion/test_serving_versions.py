"""components/promotion/serving_versions.py: what TF Serving sees in the serving dir."""
import json
import os

from components.promotion import serving_versions as sv


def fake_model(path, content=b"graph"):
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "wb") as handle:
        handle.write(content)
    with open(os.path.join(path, "variables", "variables.index"), "wb") as handle:
        handle.write(b"index")
    return str(path)


def test_fingerprint_follows_the_bytes_not_the_location(tmp_path):
    one = fake_model(tmp_path / "a")
    same = fake_model(tmp_path / "b")
    other = fake_model(tmp_path / "c", content=b"another graph")
    assert sv.model_fingerprint(one) == sv.model_fingerprint(same) != sv.model_fingerprint(other)


def test_push_writes_a_complete_numbered_version_with_its_record(tmp_path):
    model = fake_model(tmp_path / "model")
    serving = tmp_path / "serving"

    pushed = sv.push_version(model, str(serving), "abc", {"model_artifact_uri": model})

    version = int(os.path.basename(pushed))
    assert sv.list_versions(str(serving)) == [version]
    assert os.path.exists(os.path.join(pushed, "saved_model.pb"))
    assert json.load(open(os.path.join(pushed, sv.PUSH_RECORD)))["fingerprint"] == "abc"
    assert not [name for name in os.listdir(serving) if name.startswith(".staging")]


def test_versions_always_increase_even_within_one_second(tmp_path):
    model = fake_model(tmp_path / "model")
    serving = str(tmp_path / "serving")
    first = int(os.path.basename(sv.push_version(model, serving, "one", {})))
    second = int(os.path.basename(sv.push_version(model, serving, "two", {})))
    assert second > first and sv.latest_version(serving) == second


def test_half_written_and_foreign_folders_are_not_versions(tmp_path):
    serving = tmp_path / "serving"
    fake_model(serving / ".staging-5")  # an interrupted push
    fake_model(serving / "7")  # copied by hand, no push record
    os.makedirs(serving / "notes")
    assert sv.list_versions(str(serving)) == [] and sv.latest_version(str(serving)) is None
    assert sv.serving_state(str(serving)) == ""


def test_prune_keeps_the_newest_versions(tmp_path):
    model = fake_model(tmp_path / "model")
    serving = str(tmp_path / "serving")
    pushed = [int(os.path.basename(sv.push_version(model, serving, str(i), {}))) for i in range(4)]

    deleted = sv.prune_versions(serving, keep=2)

    assert deleted == pushed[:2]
    assert sv.list_versions(serving) == pushed[2:]
