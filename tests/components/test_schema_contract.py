"""components/schema_contract.py: the committed schemas are what the code would generate."""
from pathlib import Path

from components import constants
from components.ingestion.synthetic_images import CLASSES as SYNTHETIC_CLASSES
from components.schema_contract import build_schema, class_names_of, find_schema_for, load_schema, schema_text
from pipeline.config import DEFAULT_SCHEMA_DIR

HORSE_OR_HUMAN_SCHEMA = Path(DEFAULT_SCHEMA_DIR) / "horse_or_human" / "schema.pbtxt"


def test_committed_horse_or_human_schema_is_what_the_code_generates():
    assert HORSE_OR_HUMAN_SCHEMA.read_text() == schema_text(["horses", "humans"])
    assert load_schema(str(HORSE_OR_HUMAN_SCHEMA)) == build_schema(["horses", "humans"])


def test_schema_requires_every_raw_feature_once_per_example_and_the_span_once_where_present():
    schema = build_schema(["horses", "humans"])

    assert [f.name for f in schema.feature] == list(constants.RAW_FEATURE_KEYS)
    for feature in schema.feature:
        if feature.name == constants.SPAN_KEY:  # examples written before spans carry none
            assert feature.presence.min_fraction == 0.0 and (feature.value_count.min, feature.value_count.max) == (1, 1)
            continue
        assert feature.presence.min_fraction == 1.0, feature.name
        assert [d.size for d in feature.shape.dim] == [1], feature.name


def test_label_domain_follows_the_number_of_classes():
    schema = build_schema(["apes", "cats", "dogs"])
    label = next(f for f in schema.feature if f.name == constants.LABEL_KEY)

    assert (label.int_domain.min, label.int_domain.max) == (0, 2)
    assert class_names_of(schema) == ["apes", "cats", "dogs"]


def test_find_schema_for_picks_the_committed_schema_by_its_classes():
    assert find_schema_for(["horses", "humans"], DEFAULT_SCHEMA_DIR) == str(HORSE_OR_HUMAN_SCHEMA)


def test_find_schema_for_unknown_classes_is_none():
    assert find_schema_for(["cats", "dogs"], DEFAULT_SCHEMA_DIR) is None
    assert find_schema_for(["horses"], DEFAULT_SCHEMA_DIR) is None


def test_offline_synthetic_data_set_has_a_committed_schema():
    path = find_schema_for(list(SYNTHETIC_CLASSES), DEFAULT_SCHEMA_DIR)

    assert path is not None and Path(path).parent.name == "synthetic_shapes"


def test_committed_rock_paper_scissors_schema_is_what_the_code_generates_for_three_classes():
    path = Path(DEFAULT_SCHEMA_DIR) / "rock_paper_scissors" / "schema.pbtxt"

    assert path.read_text() == schema_text(["paper", "rock", "scissors"])
    assert find_schema_for(["paper", "rock", "scissors"], DEFAULT_SCHEMA_DIR) == str(path)
