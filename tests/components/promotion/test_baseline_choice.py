"""components/promotion/baseline_choice.py: the bar, the label contract, unmanaged folders, the drift guard."""
import pytest

from components.promotion.baseline_choice import BaselineDecision, decide, reference_version
from components.serving.versions import ServingFolder

HORSES = ["horses", "humans"]
SHAPES = ["circles", "squares"]


def pushed(version, fingerprint, accuracy=None, class_names=HORSES, **record):
    record = dict(record, fingerprint=fingerprint, class_names=class_names)
    if accuracy is not None:
        record["eval_accuracy"] = accuracy
    return ServingFolder(version, f"/serving/{version}", record)


def unmanaged(version):
    return ServingFolder(version, f"/serving/{version}", None)


def test_an_empty_serving_dir_means_absolute_thresholds_only():
    decision = decide("/serving", [], "new", HORSES, "best_kept")
    assert not decision.has_baseline and not decision.refusal and decision.serving_version is None
    assert decision.serving_version_text == "empty" and decision.note.startswith("nothing is serving")


def test_other_class_names_are_refused_naming_both_lists_and_never_compared():
    decision = decide("/serving", [pushed(1, "horse-model", 0.98)], "shapes-model", SHAPES, "best_kept")
    assert not decision.has_baseline
    assert "label set differs" in decision.refusal
    assert "[horses, humans]" in decision.refusal and "[circles, squares]" in decision.refusal


def test_the_same_classes_in_another_label_order_are_refused_too():
    decision = decide("/serving", [pushed(1, "a", 0.98)], "b", ["humans", "horses"], "latest")
    assert "label set differs" in decision.refusal and not decision.has_baseline


def test_a_served_folder_the_pipeline_did_not_push_is_refused():
    decision = decide("/serving", [pushed(1, "a", 0.98), unmanaged(2)], "b", HORSES, "best_kept")
    assert decision.serving_version == 2 and not decision.has_baseline
    assert "/serving/2 has no push_record.json" in decision.refusal and "--force-push" in decision.refusal


def test_a_lower_unmanaged_folder_is_named_not_silently_skipped():
    decision = decide("/serving", [unmanaged(1), pushed(2, "a", 0.98)], "b", HORSES, "best_kept")
    assert decision.baseline_version == 2 and not decision.refusal
    assert "ignored, not served: /serving/1" in decision.note


def test_a_version_pushed_without_class_names_cannot_be_checked():
    decision = decide("/serving", [pushed(1, "a", 0.98, class_names=None)], "b", HORSES, "best_kept")
    assert "records no class names" in decision.refusal


def test_the_serving_model_itself_is_never_its_own_baseline():
    decision = decide("/serving", [pushed(1, "a", 0.98)], "a", HORSES, "best_kept")
    assert not decision.has_baseline and not decision.refusal and "already serving as version 1" in decision.note


def test_drift_guard_best_kept_holds_the_best_recorded_version_as_the_bar():
    # A chain of small losses, each within max_accuracy_drop of the one before.
    chain = [pushed(1, "a", 0.960), pushed(2, "b", 0.955), pushed(3, "c", 0.951)]
    best = decide("/serving", chain, "d", HORSES, "best_kept")
    latest = decide("/serving", chain, "d", HORSES, "latest")
    assert best.baseline_version == 1 and "best kept version 1" in best.note and best.serving_version == 3
    assert latest.baseline_version == 3 and latest.note.startswith("serving version 3")


def test_best_kept_skips_other_classes_withdrawn_versions_and_unmeasured_ones():
    folders = [
        pushed(1, "shapes", 0.999, class_names=SHAPES),  # another label set (before a forced change)
        pushed(2, "a", 0.97),
        pushed(3, "b", 0.99),  # withdrawn by the rollback below
        pushed(4, "a", 0.97, pushed_by="rollback", rollback_of=2, withdraws=[3]),
        pushed(5, "c"),  # no recorded accuracy
    ]
    assert reference_version(folders, "best_kept").version == 4  # ties go to the newer
    assert reference_version(folders, "latest").version == 5


def test_a_model_a_rollback_withdrew_is_not_pushed_again():
    folders = [pushed(1, "a", 0.97), pushed(2, "b", 0.99), pushed(3, "a", 0.97, rollback_of=1, withdraws=[2])]
    decision = decide("/serving", folders, "b", HORSES, "best_kept")
    assert "withdrew" in decision.refusal and not decision.has_baseline


def test_the_decision_survives_its_json_file(tmp_path):
    decision = decide("/serving", [pushed(1, "a", 0.98), pushed(2, "b", 0.97)], "c", HORSES, "best_kept")
    decision.write(str(tmp_path))
    again = BaselineDecision.read(str(tmp_path))
    assert again == decision and again.baseline_version == 1 and again.serving_version == 2


@pytest.mark.parametrize("policy", ["latest", "best_kept"])
def test_with_one_version_both_policies_compare_with_it(policy):
    decision = decide("/serving", [pushed(7, "a", 0.98)], "b", HORSES, policy)
    assert decision.baseline_version == 7 and decision.note == "serving version 7 from /serving"
