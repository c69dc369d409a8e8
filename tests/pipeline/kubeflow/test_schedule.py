"""pipeline/kubeflow/schedule.py: intervals, and cron expressions checked as KFP's robfig/cron v1.2.0 cron.Parse.

The cron cases are robfig/cron v1.2.0's own (parser_test.go TestRange, TestParse), on whole expressions.
"""
import pytest

from pipeline.config import ConfigError
from pipeline.kubeflow.schedule import check_cron, describe_interval, interval_seconds, robfig_cron_problem


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("6h", 21600), ("1d", 86400), ("7d", 604800), ("45s", 45)])
def test_an_interval_is_a_count_and_a_unit(text, seconds):
    assert interval_seconds(text) == seconds
    assert interval_seconds(describe_interval(seconds)) == seconds


@pytest.mark.parametrize("text", ["0d", "-1h", "1.5h", "1w", "d", "1", "1d2h", ""])
def test_an_interval_without_a_positive_count_and_one_known_unit_is_refused_with_examples(text):
    with pytest.raises(ConfigError, match=r"--every .*: give a positive count and one unit of s, m, h, d .* 30m, 6h, 1d or 7d"):
        interval_seconds(text)


@pytest.mark.parametrize("spec", ["* 5 * * * *", "0 0 6 * * *", "0 0 9 ? * 2-6", "0 */15 8-18 * JAN-dec mon-FRI",
                                  "1,5-7/2,3 * * * * *", "5/20 * * * * *", "0 0 6 * *", "@daily", "@every 1h30m"])
def test_what_robfig_cron_parses(spec):
    assert robfig_cron_problem(spec) is None


@pytest.mark.parametrize("spec, error", [
    ("", "Empty spec string"),
    ("* 5 j * * *", "Failed to parse int from j"),
    ("5--5 * * * * *", "Too many hyphens: 5--5"),
    ("*/-12 * * * * *", "Negative number (-12) not allowed: -12"),
    ("*//2 * * * * *", "Too many slashes: *//2"),
    ("0 0 0 0 * *", "Beginning of range (0) below minimum (1): 0"),
    ("0 0 24 * * *", "End of range (24) above maximum (23): 24"),
    ("0 0 0 * * 5-3", "Beginning of range (5) beyond end of range (3): 5-3"),
    ("*/0 * * * * *", "Step of range should be a positive number: */0"),
    ("0 0 6 * * * *", "Expected 5 to 6 fields, found 7: 0 0 6 * * * *"),
    ("* * * *", "Expected 5 to 6 fields, found 4"),
    ("@fortnightly", "Unrecognized descriptor: @fortnightly"),
    ("@every 1 day", "Failed to parse duration @every 1 day"),
])
def test_what_robfig_cron_refuses_and_its_words(spec, error):
    assert error in robfig_cron_problem(spec)


def test_a_six_field_cron_is_taken_as_given():
    assert check_cron("0 0 6 * * *") == "0 0 6 * * *"


@pytest.mark.parametrize("spec, words", [
    ("0 6 * * *", "KFP reads a five-field expression's first field as seconds"),
    ("@daily", "give six fields, second first"),
    ("0 0 25 * * *", "Kubeflow Pipelines would refuse it (End of range (25) above maximum (23): 25)"),
    ("0 0 6 * * * *", "Kubeflow Pipelines would refuse it (Expected 5 to 6 fields, found 7"),
])
def test_a_cron_kfp_refuses_or_would_misread_is_refused_with_a_six_field_example(spec, words):
    with pytest.raises(ConfigError) as refused:
        check_cron(spec)
    assert words in str(refused.value) and "'0 0 6 * * *' for 06:00 daily" in str(refused.value)
