"""`transfer-pipeline serving list|rollback` (pipeline/cli/serving.py, components/serving/rollback.py) on real SavedModels."""
import json
import os

import pytest
import tensorflow as tf

from components.serving.versions import scan
from pipeline.cli.main import main


def served_factor(serving_dir):
    """What TF Serving would answer now: the highest version's model, loaded."""
    model = tf.saved_model.load(scan(str(serving_dir))[-1].path)
    return float(model.signatures["serving_default"](tf.constant([1.0]))["score"].numpy()[0])


def listing(serving_dir, capsys):
    assert main(["serving", "list", "--serving-dir", str(serving_dir), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["versions"]


@pytest.fixture
def two_versions(tmp_path, saved_model, push):
    serving = tmp_path / "serving"
    good = push(serving, saved_model(1.0), accuracy=0.97, data_dir="/data/horse-or-human",
                eval_figures={"overall": {"value": 0.97, "lower": 0.94, "upper": 0.99, "examples": 183}})
    bad = push(serving, saved_model(2.0), accuracy=0.99, data_dir="/data/horse-or-human")
    return serving, good, bad


def test_rollback_republishes_the_earlier_model_as_the_newest_version(two_versions, capsys):
    serving, good, bad = two_versions
    assert served_factor(serving) == 2.0

    assert main(["serving", "rollback", "--serving-dir", str(serving)]) == 0

    assert f"now serves version {good.version}'s model" in capsys.readouterr().out
    [_, _, restored] = scan(str(serving))
    assert restored.version > bad.version and served_factor(serving) == 1.0
    assert restored.record["rollback_of"] == good.version and restored.record["withdraws"] == [bad.version]
    assert restored.record["fingerprint"] == good.record["fingerprint"]
    assert restored.record["eval_accuracy"] == 0.97 and restored.record["pushed_by"] == "rollback"


def test_list_shows_what_serves_how_each_version_got_there_and_what_it_knows(two_versions, capsys):
    serving, good, bad = two_versions
    assert main(["serving", "rollback", "--serving-dir", str(serving), "--to", str(good.version)]) == 0
    capsys.readouterr()

    rows = listing(serving, capsys)

    assert [row["served"] for row in rows] == [False, False, True]
    assert [row["how"] for row in rows] == ["pushed", "pushed, withdrawn by a rollback", f"rollback of {good.version}"]
    assert rows[0]["eval_accuracy"] == 0.97 and rows[0]["data_set"] == "horse-or-human"
    assert all(row["class_names"] == ["horses", "humans"] and row["pushed_at"] for row in rows)
    assert main(["serving", "list", "--serving-dir", str(serving)]) == 0
    table = capsys.readouterr().out
    assert "<- served" in table.splitlines()[-1] and "classes [horses, humans]" in table
    # Each version's eval accuracy with its 95% interval and the images behind it.
    assert rows[0]["eval_figures"]["overall"] == {"value": 0.97, "lower": 0.94, "upper": 0.99, "examples": 183}
    assert "accuracy 0.9700 (0.940–0.990, 183 images)" in table


def test_list_shows_the_spans_each_version_was_trained_on_and_a_rollback_keeps_them(tmp_path, saved_model, push, capsys):
    serving = tmp_path / "serving"
    plain = push(serving, saved_model(1.0), accuracy=0.97, spans=None)  # trained on a plain folder
    push(serving, saved_model(2.0), accuracy=0.98, spans=["span-9", "span-10"])
    assert main(["serving", "rollback", "--serving-dir", str(serving), "--to", str(plain.version)]) == 0
    push(serving, saved_model(3.0), accuracy=0.99, spans=["span-10", "span-11"])
    capsys.readouterr()

    rows = listing(serving, capsys)

    assert [row["spans"] for row in rows] == [None, ["span-9", "span-10"], None, ["span-10", "span-11"]]
    assert main(["serving", "list", "--serving-dir", str(serving)]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert ["spans -  " in lines[0], "spans span-9, span-10  " in lines[1], "spans -  " in lines[2],
            "spans span-10, span-11  " in lines[3]] == [True] * 4


def test_a_rollback_carries_the_spans_of_the_model_it_restores(tmp_path, saved_model, push):
    serving = tmp_path / "serving"
    spanned = push(serving, saved_model(1.0), accuracy=0.97, spans=["span-1", "span-2"])
    push(serving, saved_model(2.0), accuracy=0.98, spans=["span-3"])

    assert main(["serving", "rollback", "--serving-dir", str(serving)]) == 0

    assert scan(str(serving))[-1].record["spans"] == spanned.record["spans"] == ["span-1", "span-2"]


def test_list_names_a_folder_the_pipeline_did_not_push(two_versions, files_model, capsys):
    serving, _, _ = two_versions
    files_model(serving / "99999999999")
    rows = listing(serving, capsys)
    assert rows[-1]["served"] and rows[-1]["how"] == "not pushed by the pipeline (no push_record.json)"


@pytest.mark.parametrize("to, message", [
    ("served", "is the one serving now"),
    ("123", "has no version 123"),
    ("unmanaged", "not pushed by this pipeline"),
])
def test_refused_rollbacks_say_why_in_one_line(two_versions, files_model, capsys, to, message):
    serving, _, bad = two_versions
    files_model(serving / "5")
    target = {"served": str(bad.version), "unmanaged": "5"}.get(to, to)
    before = sorted(os.listdir(serving))

    assert main(["serving", "rollback", "--serving-dir", str(serving), "--to", target]) == 2

    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert sorted(os.listdir(serving)) == before
