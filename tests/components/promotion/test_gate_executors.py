"""ServingBaseline and SafePusher, run by their real executors on real artifacts and tiny real SavedModels.

Two "runs" are interleaved by hand where the scenario is a race: each run's
ServingBaseline, then the Pushers in the order under test.
"""
import json
import os

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components import constants
from components.drift.component import DriftReference
from components.drift.statistics import REFERENCE_FILE
from components.promotion.baseline import ServingBaseline
from components.promotion.baseline_choice import DECISION_FILE
from components.promotion.pusher_executor import SafePusherExecutor
from components.promotion.settings import PromotionSettings
from components.serving.rollback import rollback
from components.serving.versions import PUSH_RECORD, scan
from components.schema_contract import build_schema

HORSES = ["horses", "humans"]
SHAPES = ["circles", "squares"]


def artifact(kind, uri, **int_properties):
    instance = kind()
    instance.uri = str(uri)
    os.makedirs(instance.uri, exist_ok=True)
    for key, value in int_properties.items():
        instance.set_int_custom_property(key, value)
    return instance


@pytest.fixture
def gate(tmp_path):
    """gate.baseline(run, model_dir, classes) and gate.push(run, model_dir, baseline, ...) on tmp_path/serving."""
    serving = str(tmp_path / "serving")

    class Gate:
        serving_dir = serving

        @staticmethod
        def baseline(run, model_dir, class_names=HORSES, policy=PromotionSettings.baseline_policy):
            schema = artifact(standard_artifacts.Schema, tmp_path / run / "schema")
            with open(os.path.join(schema.uri, "schema.pbtxt"), "w") as handle:
                handle.write(str(build_schema(class_names)))
            output = artifact(standard_artifacts.Model, tmp_path / run / "baseline")
            ServingBaseline.EXECUTOR_SPEC.executor_class().Do(
                {"model": [artifact(standard_artifacts.Model, os.path.dirname(model_dir))], "schema": [schema]},
                {"baseline_model": [output]},
                {"serving_dir": serving, "baseline_policy": policy, "serving_state": "",
                 "comparison_policy": PromotionSettings.comparison_policy},
            )
            return output

        @staticmethod
        def push(run, model_dir, baseline, blessed=True, examples=None, drift_reference=None, **settings):
            """Pushes with the custom_config SafePusher builds: PromotionSettings' fields (only the given ones
            and the serving dir, so the executor's defaults are the declared ones) and the run's provenance.
            examples, drift_reference: the ingested Examples and the DriftGate's reference, when the test gives them."""
            pushed = artifact(standard_artifacts.PushedModel, tmp_path / run / "pushed")
            provenance = {"pipeline_name": "test", "data_dir": "/data/horse-or-human", "schema": ""}
            custom_config = dict(provenance, serving_dir=serving, **settings)
            SafePusherExecutor().Do(
                {
                    "model": [artifact(standard_artifacts.Model, os.path.dirname(model_dir))],
                    "model_blessing": [artifact(standard_artifacts.ModelBlessing, tmp_path / run / "blessing", blessed=int(blessed))],
                    "serving_baseline": [baseline],
                    **({"examples": [examples]} if examples is not None else {}),
                    **({"drift_reference": [drift_reference]} if drift_reference is not None else {}),
                },
                {"pushed_model": [pushed]},
                {"custom_config": json.dumps(custom_config)},
            )
            return pushed

    return Gate


def note(pushed):
    return pushed.get_string_custom_property("push_note")


def test_the_decision_record_is_written_even_when_nothing_serves(gate, saved_model):
    baseline = gate.baseline("run1", saved_model(1.0))
    decision = json.load(open(os.path.join(baseline.uri, DECISION_FILE)))
    assert decision["has_baseline"] is False and decision["serving_version"] is None
    assert decision["candidate_class_names"] == HORSES and decision["note"].startswith("nothing is serving")
    assert baseline.get_string_custom_property("serving_version") == "empty"
    assert baseline.get_int_custom_property("has_baseline") == 0


def test_a_push_records_the_class_names_and_what_it_was_compared_with(gate, saved_model):
    first = gate.push("run1", saved_model(1.0), gate.baseline("run1", saved_model(1.0)))
    baseline = gate.baseline("run2", saved_model(2.0))
    second = gate.push("run2", saved_model(2.0), baseline)

    [one, two] = scan(gate.serving_dir)
    assert first.get_int_custom_property("pushed") == 1 and second.get_int_custom_property("pushed") == 1
    assert two.record["class_names"] == HORSES and two.record["compared_with"] == one.version
    assert two.record["data_dir"] == "/data/horse-or-human" and one.record["compared_with"] is None
    bar = os.path.join(baseline.uri, "Format-Serving")
    assert tf.saved_model.load(bar).signatures["serving_default"](tf.constant([3.0]))["score"].numpy()[0] == 3.0


def test_a_push_records_the_spans_its_examples_were_read_from(gate, saved_model, tmp_path):
    spanned = artifact(standard_artifacts.Examples, tmp_path / "run1" / "examples")
    spanned.set_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY, ["2024-09-30", "2024-10-07"])
    gate.push("run1", saved_model(1.0), gate.baseline("run1", saved_model(1.0)), examples=spanned)
    plain = artifact(standard_artifacts.Examples, tmp_path / "run2" / "examples")  # a plain folder: no property
    gate.push("run2", saved_model(2.0), gate.baseline("run2", saved_model(2.0)), examples=plain)

    [one, two] = scan(gate.serving_dir)
    assert one.record["spans"] == ["2024-09-30", "2024-10-07"] and two.record["spans"] is None


def test_the_drift_reference_is_kept_beside_the_push_record_and_a_rollback_carries_it(gate, saved_model, tmp_path):
    reference = artifact(DriftReference, tmp_path / "run1" / "drift_reference")
    with open(os.path.join(reference.uri, REFERENCE_FILE), "w") as handle:
        handle.write('{"class_counts": {"horses": 3}}')
    gate.push("run1", saved_model(1.0), gate.baseline("run1", saved_model(1.0)), drift_reference=reference)
    gate.push("run2", saved_model(2.0), gate.baseline("run2", saved_model(2.0)))  # drift_gate off: none

    one, two = scan(gate.serving_dir)
    with open(os.path.join(one.path, REFERENCE_FILE)) as handle:
        assert handle.read() == '{"class_counts": {"horses": 3}}'
    assert not os.path.exists(os.path.join(two.path, REFERENCE_FILE))
    restored = rollback(gate.serving_dir, to_version=one.version)
    with open(os.path.join(restored.path, REFERENCE_FILE)) as handle:
        assert handle.read() == '{"class_counts": {"horses": 3}}'


def test_when_another_run_pushed_in_between_the_second_push_is_refused(gate, saved_model):
    a, b = saved_model(1.0), saved_model(2.0)
    baseline_a, baseline_b = gate.baseline("a", a), gate.baseline("b", b)  # both see an empty dir

    pushed_a = gate.push("a", a, baseline_a)
    pushed_b = gate.push("b", b, baseline_b)

    version = scan(gate.serving_dir)[0].version
    assert pushed_a.get_int_custom_property("pushed") == 1 and pushed_b.get_int_custom_property("pushed") == 0
    assert note(pushed_b) == (
        f"not pushed: another run pushed version {version} in between (this run's ServingBaseline compared "
        f"against an empty serving dir); the next run compares against version {version}"
    )
    assert len(scan(gate.serving_dir)) == 1
    assert not [n for n in os.listdir(gate.serving_dir) if n.startswith(".staging")]


def test_a_model_of_other_classes_is_refused_however_good_unless_forced_with_a_reason(gate, saved_model):
    gate.push("horses", saved_model(1.0), gate.baseline("horses", saved_model(1.0)))
    shapes = saved_model(5.0)
    baseline = gate.baseline("shapes", shapes, class_names=SHAPES)
    assert baseline.get_int_custom_property("has_baseline") == 0  # never compared metric to metric

    refused = gate.push("shapes", shapes, baseline)
    assert refused.get_int_custom_property("pushed") == 0
    assert "label set differs" in note(refused) and "[horses, humans]" in note(refused) and "[circles, squares]" in note(refused)

    forced = gate.push("shapes-forced", shapes, baseline, force_push=True, force_push_reason="new product line: shapes")
    record = scan(gate.serving_dir)[-1].record
    assert forced.get_int_custom_property("pushed") == 1 and "forced: new product line: shapes" in note(forced)
    assert record["class_names"] == SHAPES and record["force_push_reason"] == "new product line: shapes"
    assert "label set differs" in record["force_push_overrode"]
    assert forced.get_string_custom_property("force_push_reason") == "new product line: shapes"


def test_force_push_never_overrides_the_blessing(gate, saved_model):
    baseline = gate.baseline("run", saved_model(1.0), class_names=SHAPES)
    pushed = gate.push("run", saved_model(1.0), baseline, blessed=False, force_push=True, force_push_reason="trying")
    assert pushed.get_int_custom_property("pushed") == 0 and note(pushed) == "not pushed: the model was not blessed"
    assert scan(gate.serving_dir) == []


def test_a_hand_copied_served_folder_refuses_the_push_and_force_push_goes_above_it(gate, saved_model):
    gate.push("run1", saved_model(1.0), gate.baseline("run1", saved_model(1.0)))
    manual = os.path.join(gate.serving_dir, "99999999999")
    os.rename(scan(gate.serving_dir)[0].path, manual)
    os.remove(os.path.join(manual, PUSH_RECORD))  # as if copied in by hand

    baseline = gate.baseline("run2", saved_model(2.0))
    refused = gate.push("run2", saved_model(2.0), baseline)
    assert refused.get_int_custom_property("pushed") == 0 and f"{manual} has no push_record.json" in note(refused)

    forced = gate.push("run3", saved_model(2.0), baseline, force_push=True, force_push_reason="replace the manual copy")
    assert forced.get_int_custom_property("pushed") == 1 and scan(gate.serving_dir)[-1].version == 100000000000


def test_pruning_keeps_the_best_kept_bar(gate, saved_model, push):
    best = push(gate.serving_dir, saved_model(1.0), accuracy=0.99)
    push(gate.serving_dir, saved_model(2.0), accuracy=0.95)
    candidate = saved_model(3.0)

    gate.push("run", candidate, gate.baseline("run", candidate), keep_versions=1)

    kept = [folder.version for folder in scan(gate.serving_dir)]
    assert kept[0] == best.version and len(kept) == 2  # the newest, and the bar the next run compares with


def test_a_rollback_between_lookup_and_push_refuses_the_push(gate, saved_model):
    from components.serving.rollback import rollback

    gate.push("run1", saved_model(1.0), gate.baseline("run1", saved_model(1.0)))
    gate.push("run2", saved_model(2.0), gate.baseline("run2", saved_model(2.0)))
    baseline = gate.baseline("run3", saved_model(3.0))  # compares against version 2
    restored = rollback(gate.serving_dir)

    refused = gate.push("run3", saved_model(3.0), baseline)

    assert refused.get_int_custom_property("pushed") == 0
    assert f"a rollback published version {restored.version} in between" in note(refused)


def test_a_push_keeps_the_declared_number_of_versions_when_its_config_names_none(gate, saved_model):
    for run in range(PromotionSettings.keep_versions + 2):
        model = saved_model(float(run + 1))
        gate.push(f"run{run}", model, gate.baseline(f"run{run}", model, policy="latest"))

    assert len(scan(gate.serving_dir)) == PromotionSettings().keep_versions


def test_the_evaluator_judges_the_newest_span_only_where_it_has_eval_images(tmp_path):
    from components.promotion.evaluator_executor import eval_examples_of_span, newest_span_judged

    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples.split_names = '["train", "eval"]'
    os.makedirs(tmp_path / "examples" / "Split-eval")
    with tf.io.TFRecordWriter(str(tmp_path / "examples" / "Split-eval" / "data.gz"), options="GZIP") as writer:
        for span in [b"span-1"] * 5 + [b"span-2"] * 3:
            feature = {constants.SPAN_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[span]))}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    assert (eval_examples_of_span([examples], "span-2"), eval_examples_of_span([examples], "span-3")) == (3, 0)

    from google.protobuf import json_format
    from components.promotion.eval_config import GateThresholds, build_eval_config
    properties = {"eval_config": json_format.MessageToJson(build_eval_config(GateThresholds(0.5, 0.02, 0.5, 0.02)))}
    examples.set_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY, ["span-1", "span-2"])
    assert '"span": "span-2"' in newest_span_judged(properties, [examples])["eval_config"]
    # A newest span with no eval images would be a missing slice to TFMA: no blessing, no failure named.
    examples.set_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY, ["span-1", "span-3"])
    assert newest_span_judged(properties, [examples]) is properties
