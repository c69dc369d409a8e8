"""components/ingestion/folder_scan.py: the cheap scan that runs before any heavy work."""
import pytest

from components.ingestion.folder_scan import (DATA_SET_DOCUMENTATION, DataError, folder_fingerprint, group_of,
                                              scan_image_folder, subject_of)
from pipeline.config import DEFAULT_GROUP_PATTERN


def scan(path):
    return scan_image_folder(str(path), DEFAULT_GROUP_PATTERN)


def test_real_data_set_gives_two_classes_and_every_image(horse_or_human_dir):
    result = scan(horse_or_human_dir)

    assert result.class_names == ["horses", "humans"]
    assert result.count_by_class() == {"horses": 450, "humans": 465}
    assert [r.path for r in result.rejected] == ["README.md"]  # the attribution file, reported not used
    assert result.warnings == []
    labels = {c.class_name: c.label for c in result.candidates}
    assert labels == {"horses": 0, "humans": 1}
    # 45 horse subjects and 15 human subjects (README), not one group per file.
    assert len({c.group for c in result.candidates if c.class_name == "horses"}) == 45
    assert len({c.group for c in result.candidates if c.class_name == "humans"}) == 15


def test_non_image_hidden_and_zero_byte_files_are_rejected_and_good_ones_kept(small_image_set):
    root = small_image_set()
    (root / "cats" / "notes.txt").write_text("shot on a sunny day")
    (root / "cats" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "dogs" / "dog09-0.png").write_bytes(b"")
    (root / "dogs" / "dog10-0").write_bytes(b"no extension")
    (root / "README.md").write_text("top-level file")
    (root / "labels.csv").write_text("stray file")

    result = scan(root)

    assert len(result.candidates) == 12  # 2 classes x 3 subjects x 2 views, all kept
    reasons = {r.path: r.reason for r in result.rejected}
    assert set(reasons) == {"cats/notes.txt", "cats/.DS_Store", "dogs/dog09-0.png", "dogs/dog10-0", "README.md", "labels.csv"}
    assert "not an image file" in reasons["cats/notes.txt"] and "'.txt'" in reasons["cats/notes.txt"]
    assert "hidden or system file" in reasons["cats/.DS_Store"]
    assert "zero-byte" in reasons["dogs/dog09-0.png"] and "re-copy" in reasons["dogs/dog09-0.png"]
    assert "'none'" in reasons["dogs/dog10-0"]
    assert "not inside a class folder" in reasons["labels.csv"]
    assert "documentation" in reasons["README.md"] and "left in place" in reasons["README.md"]
    for path in ("cats/notes.txt", "cats/.DS_Store", "dogs/dog09-0.png", "dogs/dog10-0"):
        reason = reasons[path]
        assert any(fix in reason for fix in ("remove", "move", "delete", "re-copy")), reason


def test_upper_case_extensions_and_nested_folders_are_accepted(small_image_set):
    root = small_image_set()
    (root / "cats" / "cat01-1.png").rename(root / "cats" / "cat01-1.PNG")
    (root / "dogs" / "batch2").mkdir()
    (root / "dogs" / "dog01-1.png").rename(root / "dogs" / "batch2" / "dog01-1.png")

    result = scan(root)

    assert len(result.candidates) == 12 and result.rejected == []
    nested = next(c for c in result.candidates if c.relative_path == "dogs/batch2/dog01-1.png")
    assert nested.class_name == "dogs" and nested.group == "dogs/dog01"


def test_empty_class_folder_warns_and_is_not_a_class(small_image_set):
    root = small_image_set()
    (root / "birds").mkdir()
    (root / "fish").mkdir()
    (root / "fish" / "todo.txt").write_text("add fish photos")

    result = scan(root)

    assert result.class_names == ["cats", "dogs"]
    assert len(result.warnings) == 2
    for folder, warning in zip(("birds", "fish"), result.warnings):
        assert str(root / folder) in warning and "not used as a class" in warning


def test_labels_follow_sorted_class_names(small_image_set):
    root = small_image_set(classes=("zebras", "apes"))

    labels = {c.class_name: c.label for c in scan(root).candidates}

    assert labels == {"apes": 0, "zebras": 1}


def test_single_class_is_a_data_error_naming_the_folder_and_the_fix(small_image_set):
    root = small_image_set(classes=("cats",))
    (root / "dogs").mkdir()  # present but empty: still only one usable class

    with pytest.raises(DataError) as raised:
        scan(root)

    message = str(raised.value)
    assert str(root) in message and "(cats)" in message and "at least 2" in message
    assert "own sub-folder" in message


def test_missing_data_dir_is_a_data_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-folder"

    with pytest.raises(DataError, match="does not exist") as raised:
        scan(missing)

    assert str(missing) in str(raised.value) and "--data-dir" in str(raised.value)


def test_a_file_given_as_data_dir_is_a_data_error(tmp_path):
    not_a_dir = tmp_path / "images.zip"
    not_a_dir.write_bytes(b"PK")

    with pytest.raises(DataError, match="not a directory"):
        scan(not_a_dir)


def test_no_data_dir_at_all_is_a_data_error():
    with pytest.raises(DataError, match="no data directory given"):
        scan_image_folder("", DEFAULT_GROUP_PATTERN)


@pytest.mark.parametrize(
    "stem, subject",
    [("horse01-0", "horse01"), ("horse01-9", "horse01"), ("human12-04", "human12"), ("cat3_17", "cat3")],
)
def test_views_of_one_subject_share_a_group(stem, subject):
    assert group_of("pets", stem, DEFAULT_GROUP_PATTERN) == f"pets/{subject}"


def test_names_outside_the_pattern_are_groups_of_their_own():
    assert group_of("cats", "IMG_1234", DEFAULT_GROUP_PATTERN) == "cats/IMG_1234"
    assert group_of("cats", "IMG_1234", DEFAULT_GROUP_PATTERN) != group_of("cats", "IMG_1235", DEFAULT_GROUP_PATTERN)


def test_same_subject_name_in_two_classes_is_two_groups():
    assert group_of("cats", "pet01-0", DEFAULT_GROUP_PATTERN) != group_of("dogs", "pet01-0", DEFAULT_GROUP_PATTERN)


def test_groups_can_span_classes_when_one_source_shows_several():
    assert group_of("rock", "clip7-3", DEFAULT_GROUP_PATTERN, span_classes=True) == "clip7"
    assert group_of("rock", "clip7-3", DEFAULT_GROUP_PATTERN, span_classes=True) == group_of(
        "paper", "clip7-9", DEFAULT_GROUP_PATTERN, span_classes=True
    )


def test_the_first_alternative_that_matches_names_the_group():
    pattern = r"""(?x) ^(?: (day\d+)_\d+   # photos of a day
                          | (.+)-\d+ )$    # video frames"""
    assert subject_of("day3_120", pattern) == "day3"
    assert subject_of("IMG_7-186", pattern) == "IMG_7"
    assert subject_of("loose", pattern) is None


def test_files_outside_the_pattern_are_counted_as_ungrouped(small_image_set):
    root = small_image_set(subjects=2, views=2)
    (root / "cats" / "stray.png").write_bytes((root / "cats" / "cat01-0.png").read_bytes())

    candidates = scan(root).candidates

    assert [c.relative_path for c in candidates if not c.grouped] == ["cats/stray.png"]


# Spans: data that arrives over time, DATA_DIR/<span>/<class>/...


@pytest.fixture
def spans_dir(small_image_set, tmp_path):
    """Factory: tmp_path/data/<span>/{cats,dogs}/..., 3 subjects x 2 views per class in each span (the same
    subjects in every span, as photographs of them arrive week by week)."""
    def make(*spans, classes=("cats", "dogs")):
        for span in spans:
            small_image_set(classes=classes, name=f"data/{span}")
        return tmp_path / "data"

    return make


def test_span_folders_are_spans_ordered_as_integers_and_every_image_carries_its_span(spans_dir):
    root = spans_dir("span-1", "span-2", "span-9", "span-10")

    result = scan(root)

    assert result.spans_present == ["span-1", "span-2", "span-9", "span-10"]
    assert result.spans == result.spans_present  # the window: every span by default
    assert result.class_names == ["cats", "dogs"]
    assert {c.span for c in result.candidates} == set(result.spans)
    assert all(c.relative_path.startswith(f"{c.span}/{c.class_name}/") for c in result.candidates)
    assert result.count_by_span() == {span: {"cats": 6, "dogs": 6} for span in result.spans}


def test_dated_spans_are_ordered_by_date(spans_dir):
    result = scan(spans_dir("2024-10-07", "2024-09-30", "2025-01-06"))

    assert result.spans == ["2024-09-30", "2024-10-07", "2025-01-06"]


def test_a_date_shaped_folder_that_is_no_real_date_is_refused_by_name(spans_dir):
    root = spans_dir("2024-09-30", "2024-02-30")

    with pytest.raises(DataError, match=r"2024-02-30.*not real dates"):
        scan(root)


def test_classes_are_the_union_over_the_spans_and_a_missing_class_shows_as_zero(spans_dir):
    root = spans_dir("span-1")
    spans_dir("span-2", classes=("birds", "cats", "dogs"))

    result = scan(root)

    assert result.class_names == ["birds", "cats", "dogs"]
    assert {c.class_name: c.label for c in result.candidates} == {"birds": 0, "cats": 1, "dogs": 2}
    assert result.count_by_span() == {"span-1": {"birds": 0, "cats": 6, "dogs": 6},
                                      "span-2": {"birds": 6, "cats": 6, "dogs": 6}}


def test_span_folders_beside_class_folders_are_refused_naming_both_and_the_fix(spans_dir, small_image_set):
    root = spans_dir("span-1", "span-2")
    small_image_set(classes=("horses",), name="data")  # a class folder at the top, beside the spans

    with pytest.raises(DataError) as refused:
        scan(root)

    message = str(refused.value)
    assert "span-1, span-2" in message and "horses" in message
    assert f"{root}/span-2/horses" in message  # where to move it


def test_the_two_span_naming_schemes_in_one_data_dir_are_refused(spans_dir):
    root = spans_dir("span-1", "2024-09-30")

    with pytest.raises(DataError, match=r"both naming schemes.*span-1.*2024-09-30"):
        scan(root)


def test_a_plain_folder_of_class_folders_is_one_implicit_span(small_image_set):
    result = scan(small_image_set())

    assert result.spans == [] and result.spans_present == []
    assert {c.span for c in result.candidates} == {""}
    assert result.count_by_span() == {}


@pytest.mark.parametrize("window_spans, span, window", [
    (0, "", ["span-1", "span-2", "span-3"]),
    (2, "", ["span-2", "span-3"]),
    (1, "span-2", ["span-2"]),
    (0, "span-2", ["span-1", "span-2"]),  # a backfill: everything up to that span
    (5, "span-1", ["span-1"]),
])
def test_the_window_is_the_newest_spans_up_to_the_pinned_one(spans_dir, window_spans, span, window):
    root = spans_dir("span-1", "span-2", "span-3")

    result = scan_image_folder(str(root), DEFAULT_GROUP_PATTERN, window_spans=window_spans, span=span)

    assert result.spans == window and result.spans_present == ["span-1", "span-2", "span-3"]
    assert {c.span for c in result.candidates} == set(window)
    assert len(result.candidates) == 12 * len(window)


def test_an_unknown_span_is_refused_listing_the_spans_present(spans_dir):
    root = spans_dir("span-1", "span-2")

    with pytest.raises(DataError, match=r"no span 'span-7'; the spans present, oldest first, are span-1, span-2"):
        scan_image_folder(str(root), DEFAULT_GROUP_PATTERN, span="span-7")


def test_a_span_asked_of_a_plain_folder_is_refused(small_image_set):
    with pytest.raises(DataError, match="no span folders"):
        scan_image_folder(str(small_image_set()), DEFAULT_GROUP_PATTERN, span="span-1")


def test_documentation_beside_the_spans_stays_ignored_and_stray_files_in_a_span_are_rejected(spans_dir):
    root = spans_dir("span-1", "span-2")
    (root / "README.md").write_text("photographs of cats and dogs")
    (root / "span-2" / "LICENSE").write_text("CC BY 2.0")
    (root / "span-2" / "cat07-0.png").write_bytes((root / "span-2" / "cats" / "cat01-0.png").read_bytes())

    result = scan(root)

    reasons = {r.path: r.reason for r in result.rejected}
    assert set(reasons) == {"README.md", "span-2/LICENSE", "span-2/cat07-0.png"}
    assert reasons["README.md"] == reasons["span-2/LICENSE"] == DATA_SET_DOCUMENTATION
    assert reasons["span-2/cat07-0.png"].startswith("file at the top of span span-2, not inside a class folder")
    assert result.spans == ["span-1", "span-2"] and len(result.candidates) == 24


def test_a_subject_seen_in_two_spans_is_one_group(spans_dir):
    result = scan(spans_dir("span-1", "span-2"))

    groups = {}
    for candidate in result.candidates:
        groups.setdefault(candidate.group, set()).add(candidate.span)
    assert len(groups) == 6 and all(spans == {"span-1", "span-2"} for spans in groups.values())


def test_the_fingerprint_covers_the_window_alone(spans_dir):
    root = spans_dir("span-1", "span-2")
    newest = scan_image_folder(str(root), DEFAULT_GROUP_PATTERN, window_spans=1)
    before, everything = folder_fingerprint(newest), folder_fingerprint(scan(root))
    (root / "span-1" / "cats" / "cat09-0.png").write_bytes((root / "span-1" / "cats" / "cat01-0.png").read_bytes())

    assert folder_fingerprint(scan_image_folder(str(root), DEFAULT_GROUP_PATTERN, window_spans=1)) == before
    assert folder_fingerprint(scan(root)) != everything
    spans_dir("span-3")
    assert folder_fingerprint(scan_image_folder(str(root), DEFAULT_GROUP_PATTERN, window_spans=1)) != before
