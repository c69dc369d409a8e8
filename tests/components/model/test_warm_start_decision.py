"""components/model/warm_start.py: when the head starts from the serving model's, and that it then does."""
import json
import os

import numpy as np
import pytest

from components.model.build import build_transfer_model
from components.model.settings import TrainerSettings
from components.model.warm_start import (PUSH_RECORD, SOURCE_FILE, ServingModelFacts, checksum, decide, head_weights,
                                         is_backfill, warm_start)

CLASSES = ["horses", "humans"]
HEAD = [(6912, 16), (16,), (16, 2), (2,)]


def serving(**changes):
    facts = dict(version=3, class_names=CLASSES, spans=["span-1"], image_size=(75, 75), head_shapes=HEAD)
    return ServingModelFacts(**dict(facts, **changes))


def test_matching_classes_image_size_and_head_start_from_the_serving_version():
    decision = decide(serving(), "", CLASSES, (75, 75), HEAD, ["span-1", "span-2"])

    assert decision.from_version == 3 and decision.why_not is None
    assert decision.to_dict() == {"from_version": 3}


def test_without_a_serving_model_the_reason_the_lookup_gave_is_kept():
    decision = decide(None, "nothing is serving in /srv yet", CLASSES, (75, 75), HEAD, ["span-1"])

    assert decision.to_dict() == {"from_version": None, "why_not": "nothing is serving in /srv yet"}


def test_other_class_names_or_another_label_order_start_from_scratch():
    other = decide(serving(class_names=["cats", "dogs"]), "", CLASSES, (75, 75), HEAD, None)
    swapped = decide(serving(class_names=["humans", "horses"]), "", CLASSES, (75, 75), HEAD, None)

    assert other.from_version is None and "[cats, dogs]" in other.why_not and "[horses, humans]" in other.why_not
    assert swapped.from_version is None and "label order" in swapped.why_not


def test_another_head_shape_or_image_size_starts_from_scratch_naming_both():
    wider = [(6912, 32), (32,), (32, 2), (2,)]
    shapes = decide(serving(), "", CLASSES, (75, 75), wider, None)
    size = decide(serving(image_size=(150, 150)), "", CLASSES, (75, 75), HEAD, None)

    assert shapes.from_version is None and "6912x16" in shapes.why_not and "6912x32" in shapes.why_not
    assert size.from_version is None and "150x150" in size.why_not and "75x75" in size.why_not


def test_a_backfill_starts_from_scratch_even_when_everything_else_matches():
    decision = decide(serving(spans=["span-1", "span-2", "span-10"]), "", CLASSES, (75, 75), HEAD, ["span-9"])

    assert decision.from_version is None
    assert "backfill" in decision.why_not and "span-9" in decision.why_not and "span-10" in decision.why_not


def test_backfill_compares_the_newest_spans_in_their_own_order():
    assert is_backfill(["span-2"], ["span-1", "span-10"])  # span-10 is newer than span-2
    assert not is_backfill(["span-10"], ["span-9"])
    assert not is_backfill(["span-3"], ["span-3"])  # the same span again: a retraining, not a backfill
    assert is_backfill(["2024-05-31"], ["2024-06-01"])
    assert not is_backfill(["span-1"], None) and not is_backfill(None, ["span-2"])  # a plain data dir
    assert not is_backfill(["span-1"], ["2024-06-01"])  # two schemes: other data, no order


def _pushed(tmp_path, model, version=1, class_names=CLASSES):
    """model saved the way the Trainer saves it, as WarmStartSource leaves it: Format-Serving with the
    push record, warm_start_source.json beside it."""
    artifact = tmp_path / "WarmStartSource" / "model"
    saved = artifact / "Format-Serving"
    model.save(str(saved), save_format="tf", include_optimizer=False, save_traces=False)
    (saved / PUSH_RECORD).write_text(json.dumps({"class_names": class_names, "spans": ["span-1"]}))
    (artifact / SOURCE_FILE).write_text(json.dumps({"version": version, "run_spans": ["span-1", "span-2"]}))
    return str(saved)


@pytest.fixture(scope="module")
def serving_model():
    # The smallest model of the real build: cut at mixed0, 75 px, 4 head units.
    return build_transfer_model(TrainerSettings(cut_layer="mixed0", head_units=4, image_size=75, seed=1),
                                None, 2, (75, 75, 3))


def test_the_serving_heads_weights_are_loaded_into_the_new_model(tmp_path, serving_model):
    saved = _pushed(tmp_path, serving_model, version=7)
    new = build_transfer_model(TrainerSettings(cut_layer="mixed0", head_units=4, image_size=75, seed=2),
                               None, 2, (75, 75, 3))
    assert checksum(head_weights(new)) != checksum(head_weights(serving_model))  # other seed, other start

    decision = warm_start(new, saved, CLASSES)

    assert decision.from_version == 7
    for loaded, served in zip(head_weights(new), head_weights(serving_model)):
        np.testing.assert_array_equal(loaded, served)
    assert decision.head_checksum == checksum(head_weights(serving_model))


def test_a_head_of_other_units_is_left_as_built(tmp_path, serving_model):
    saved = _pushed(tmp_path, serving_model)
    new = build_transfer_model(TrainerSettings(cut_layer="mixed0", head_units=8, image_size=75), None, 2, (75, 75, 3))
    before = checksum(head_weights(new))

    decision = warm_start(new, saved, CLASSES)

    assert decision.from_version is None and "4" in decision.why_not and "8" in decision.why_not
    assert checksum(head_weights(new)) == before


def test_an_empty_serving_dir_says_so(tmp_path, serving_model):
    artifact = tmp_path / "model"
    artifact.mkdir()
    (artifact / SOURCE_FILE).write_text(json.dumps({"version": None, "why_not": "nothing is serving in /srv yet"}))

    decision = warm_start(serving_model, os.path.join(artifact, "Format-Serving"), CLASSES)

    assert decision.to_dict() == {"from_version": None, "why_not": "nothing is serving in /srv yet"}
