"""components/ingestion/golden_set.py: the golden folder read as a plain data dir, labelled as the training
data is, refused when it cannot be judged honestly; and where ingestion takes it (component, report, driver)."""
import json

import numpy as np
import pytest
from PIL import Image

from components import constants
from components.ingestion.component import image_folder_example_gen
from components.ingestion.folder_scan import DataError, scan_image_folder
from components.ingestion.golden_set import golden_fingerprint, read_golden_set, scan_golden_folder
from components.ingestion.report import build_report
from components.ingestion.settings import IngestionSettings
from pipeline.config import DEFAULT_GROUP_PATTERN
from test_driver import SETTINGS, fingerprint


def golden_folder(root, classes=("dogs",), subjects=(7, 8), seed=99):
    """root/<class>/<stem>NN-0.png: images no training set of small_image_set holds."""
    rng = np.random.default_rng(seed)
    for class_name in classes:
        (root / class_name).mkdir(parents=True, exist_ok=True)
        for subject in subjects:
            pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / class_name / f"{class_name[:-1]}{subject:02d}-0.png")
    return root


def training(path):
    return scan_image_folder(str(path), DEFAULT_GROUP_PATTERN)


def test_golden_images_take_the_training_datas_class_ids_even_when_the_golden_set_lacks_a_class(small_image_set, tmp_path):
    data = training(small_image_set())
    golden = scan_golden_folder(str(golden_folder(tmp_path / "golden")), data, DEFAULT_GROUP_PATTERN)

    assert golden.class_names == ["cats", "dogs"]
    assert {(c.class_name, c.label) for c in golden.candidates} == {("dogs", 1)}
    assert golden.count_by_class() == {"cats": 0, "dogs": 2}


def test_a_missing_golden_dir_is_refused_naming_it_and_the_flag(small_image_set, tmp_path):
    with pytest.raises(DataError, match=r"golden dir .*nowhere does not exist.*--golden-dir"):
        read_golden_set(str(tmp_path / "nowhere"), training(small_image_set()), DEFAULT_GROUP_PATTERN)


def test_a_golden_class_the_training_data_lacks_is_refused_naming_it(small_image_set, tmp_path):
    golden = golden_folder(tmp_path / "golden", classes=("dogs", "birds"))

    with pytest.raises(DataError, match=r"class folder\(s\) birds are not classes of the training data \(cats, dogs\)"):
        read_golden_set(str(golden), training(small_image_set()), DEFAULT_GROUP_PATTERN)


def test_spans_inside_the_golden_dir_are_refused(small_image_set, tmp_path):
    golden_folder(tmp_path / "golden" / "span-1")

    with pytest.raises(DataError, match="holds span folders"):
        read_golden_set(str(tmp_path / "golden"), training(small_image_set()), DEFAULT_GROUP_PATTERN)


def test_a_golden_image_whose_content_is_in_the_training_data_is_refused_naming_both_files(small_image_set, tmp_path):
    data = small_image_set()
    golden = golden_folder(tmp_path / "golden")
    (golden / "dogs" / "renamed.png").write_bytes((data / "cats" / "cat02-1.png").read_bytes())

    with pytest.raises(DataError) as raised:
        read_golden_set(str(golden), training(data), DEFAULT_GROUP_PATTERN)

    message = str(raised.value)
    assert "1 image(s) are also in the training data" in message
    assert str(golden / "dogs" / "renamed.png") in message and str(data / "cats" / "cat02-1.png") in message


def test_distinct_golden_images_pass(small_image_set, tmp_path):
    golden = read_golden_set(str(golden_folder(tmp_path / "golden")), training(small_image_set()), DEFAULT_GROUP_PATTERN)

    assert len(golden.candidates) == 2


def test_the_golden_fingerprint_moves_with_an_added_or_rewritten_golden_image(tmp_path):
    golden = golden_folder(tmp_path / "golden")
    first = golden_fingerprint(str(golden), DEFAULT_GROUP_PATTERN)
    assert golden_fingerprint(str(golden), DEFAULT_GROUP_PATTERN) == first
    golden_folder(golden, subjects=(9,))
    second = golden_fingerprint(str(golden), DEFAULT_GROUP_PATTERN)
    assert second != first
    (golden / "dogs" / "dog09-0.png").write_bytes(b"rewritten")
    assert golden_fingerprint(str(golden), DEFAULT_GROUP_PATTERN) != second


def test_the_example_gens_cache_key_moves_when_a_golden_image_changes(small_image_set, tmp_path):
    data, golden = small_image_set(), golden_folder(tmp_path / "golden")
    settings = IngestionSettings(**dict(SETTINGS.to_dict(), golden_dir=str(golden)))
    without, before = fingerprint(data), fingerprint(data, settings)
    golden_folder(golden, subjects=(9,))

    assert before != without and fingerprint(data, settings) != before


def test_with_a_golden_dir_the_example_gen_writes_a_third_split():
    plain = image_folder_example_gen("/data", IngestionSettings())
    golden = image_folder_example_gen("/data", IngestionSettings(golden_dir="/data/golden"))

    def splits(component):
        return [split["name"] for split in json.loads(component.exec_properties["input_config"])["splits"]]

    assert splits(plain) == ["train", "eval"]
    assert splits(golden) == ["train", "eval", constants.GOLDEN_SPLIT]


def test_the_report_counts_golden_images_per_class_apart_from_train_and_eval(small_image_set, tmp_path):
    data = training(small_image_set())
    golden = read_golden_set(str(golden_folder(tmp_path / "golden")), data, DEFAULT_GROUP_PATTERN)
    outcomes = [{"file": c.relative_path, "class_name": c.class_name, "group": c.group, "split": split,
                 "accepted": True, "note": ""}
                for split, candidates in (("train", data.candidates), (constants.GOLDEN_SPLIT, golden.candidates))
                for c in candidates]
    outcomes[0]["split"] = "eval"  # one view of cats/cat01 in eval, the other in train

    report = build_report(data, outcomes, golden)

    assert report["counts"][constants.GOLDEN_SPLIT] == {"dogs": 2}
    assert report["golden_dir"] == str(tmp_path / "golden")
    assert report["groups_in_both_splits"] == ["cats/cat01"]  # train's and eval's overlap, whatever golden holds
