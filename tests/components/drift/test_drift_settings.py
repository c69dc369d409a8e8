"""DriftSettings refuses values outside their ranges, naming the setting."""
import pytest

from components.drift.settings import DriftSettings
from components.settings_group import ConfigError


def test_the_defaults_are_valid():
    assert DriftSettings().validate() == DriftSettings()


@pytest.mark.parametrize("field, value", [
    ("drift_class_prior_threshold", 1.5), ("drift_content_threshold", -0.1), ("drift_content_p_value", 2.0),
    ("drift_size_ratio_threshold", 0.9), ("drift_missing_classes_allowed", -1), ("drift_feature_rows", 1),
])
def test_a_value_out_of_range_is_refused_by_name(field, value):
    with pytest.raises(ConfigError, match=field):
        DriftSettings(**{field: value}).validate()
