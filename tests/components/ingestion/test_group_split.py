"""components/ingestion/group_split.py: subject-wise, deterministic train/eval split."""
import re
from pathlib import Path
from collections import Counter, defaultdict

import pytest

from components.ingestion.folder_scan import DataError, ImageCandidate, scan_image_folder
from components.ingestion.group_split import assign_splits, require_every_class_in_eval
from pipeline.config import DEFAULT_GROUP_PATTERN, PipelineConfig

SEED = PipelineConfig().split_seed
# The subject, read from the file name independently of the product's pattern.
SUBJECT = re.compile(r"^(horse|human)(\d+)-\d+\.png$")


@pytest.fixture(scope="module")
def real_candidates(horse_or_human_dir):
    return scan_image_folder(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN).candidates


def split_of_files(candidates, eval_fraction=0.2, seed=SEED):
    split_of = assign_splits(candidates, eval_fraction, seed)
    return {c.relative_path: split_of[c.group] for c in candidates}


def test_split_is_the_same_on_every_call_and_in_any_file_order(real_candidates):
    first = split_of_files(real_candidates)

    assert split_of_files(real_candidates) == first
    assert split_of_files(list(reversed(real_candidates))) == first


def test_another_seed_gives_another_split(real_candidates):
    assert split_of_files(real_candidates, seed="other-seed") != split_of_files(real_candidates)


def test_views_of_one_subject_never_span_both_splits(real_candidates):
    splits_per_subject = defaultdict(set)
    for path, split in split_of_files(real_candidates).items():
        subject = SUBJECT.match(path.split("/")[-1]).groups()
        splits_per_subject[subject].add(split)

    assert len(splits_per_subject) == 45 + 15
    assert {s for s, splits in splits_per_subject.items() if len(splits) > 1} == set()
    split = split_of_files(real_candidates)
    assert split["horses/horse01-0.png"] == split["horses/horse01-9.png"]


def test_both_classes_in_both_splits(real_candidates):
    pairs = {(path.split("/")[0], split) for path, split in split_of_files(real_candidates).items()}

    assert pairs == {("horses", "train"), ("horses", "eval"), ("humans", "train"), ("humans", "eval")}


@pytest.mark.parametrize("eval_fraction", [0.2, 0.5])
def test_each_class_gets_about_the_requested_eval_share(real_candidates, eval_fraction):
    split = split_of_files(real_candidates, eval_fraction)
    for class_name in ("horses", "humans"):
        files = [p for p in split if p.startswith(class_name + "/")]
        biggest_group = max(Counter(SUBJECT.match(p.split("/")[-1]).groups() for p in files).values())
        in_eval = sum(split[p] == "eval" for p in files)
        # Whole subjects move, so eval may overshoot by at most one subject's images.
        assert eval_fraction * len(files) <= in_eval < eval_fraction * len(files) + biggest_group, class_name


def test_a_class_with_a_single_subject_stays_in_train(small_image_set):
    root = small_image_set(classes=("cats", "dogs"), subjects=1, views=4)
    candidates = scan_image_folder(str(root), DEFAULT_GROUP_PATTERN).candidates

    assert set(split_of_files(candidates, 0.5).values()) == {"train"}


def candidates_of(groups):
    """groups: {group: {class: image count}} -> candidates as the scan makes them."""
    return [
        ImageCandidate(f"/d/{c}/{g}-{i}.jpg", f"{c}/{g}-{i}.jpg", c, 0, g)
        for g, by_class in groups.items() for c, n in by_class.items() for i in range(n)
    ]


def test_a_clip_of_every_class_goes_to_one_split_whole():
    groups = {f"clip{i}": {"paper": 10, "rock": 10, "scissors": 10} for i in range(10)}

    split_of = assign_splits(candidates_of(groups), 0.2, SEED)

    assert sorted(Counter(split_of.values()).items()) == [("eval", 2), ("train", 8)]


def test_a_big_group_cannot_fill_eval_with_one_class():
    # One session holds 100 rock images; eval's share of rock is 0.2 x 200 = 40, at most 1.5 x 40.
    groups = {"session": {"rock": 100}}
    groups.update({f"clip{i}": {"rock": 10, "paper": 10} for i in range(10)})

    split_of = assign_splits(candidates_of(groups), 0.2, SEED)

    assert split_of["session"] == "train"
    for class_name, total in (("rock", 200), ("paper", 100)):
        in_eval = sum(groups[g].get(class_name, 0) for g, s in split_of.items() if s == "eval")
        assert 0 < in_eval <= 1.5 * 0.2 * total, class_name


def test_a_split_that_leaves_a_class_out_of_eval_is_refused_naming_the_class_and_its_groups():
    # cats: ten subjects, some go to eval; dogs: two subjects of equal size, neither fits in eval.
    candidates = [ImageCandidate(f"/d/cats/c{g}-{i}.jpg", f"cats/c{g}-{i}.jpg", "cats", 0, f"cats/c{g}")
                  for g in range(10) for i in range(3)]
    candidates += [ImageCandidate(f"/d/dogs/d{g}-{i}.jpg", f"dogs/d{g}-{i}.jpg", "dogs", 1, f"dogs/d{g}")
                   for g in range(2) for i in range(3)]
    split_of = assign_splits(candidates, 0.2, SEED)

    with pytest.raises(DataError, match=r"/d: .*no eval images for 'dogs': 6 images in 2 subject group\(s\) "
                                        r"\(dogs/d0, dogs/d1\).*more subjects.*group_pattern") as refused:
        require_every_class_in_eval(candidates, split_of, 0.2, "/d")
    assert "cats" not in str(refused.value)


def test_the_real_data_sets_split_gives_every_class_eval_images(real_candidates):
    require_every_class_in_eval(real_candidates, assign_splits(real_candidates, 0.2, SEED), 0.2, "horse-or-human")


@pytest.fixture(scope="module")
def rps_candidates(rock_paper_scissors_dir):
    import yaml

    with open(Path(__file__).parents[3] / "configs" / "rock-paper-scissors.yaml") as handle:
        config = yaml.safe_load(handle)
    return scan_image_folder(str(rock_paper_scissors_dir), config["group_pattern"],
                             groups_span_classes=config["groups_span_classes"]).candidates


def eval_share_per_kind(candidates, by_source_kind):
    split_of = assign_splits(candidates, 0.2, SEED, by_source_kind=by_source_kind)
    images, in_eval = Counter(), Counter()
    for candidate in candidates:
        images[candidate.source_kind] += 1
        in_eval[candidate.source_kind] += split_of[candidate.group] == "eval"
    return {kind: in_eval[kind] / images[kind] for kind in images}, split_of


def test_stratified_by_source_kind_eval_holds_about_its_share_of_every_kind_with_several_groups(rps_candidates):
    groups_of_kind = defaultdict(set)
    for candidate in rps_candidates:
        groups_of_kind[candidate.source_kind].add(candidate.group)
    egohands, video = "group 1", "group 6"  # the config's first and sixth naming schemes
    assert len(groups_of_kind[egohands]) > 20 and len(groups_of_kind[video]) == 8

    plain, _ = eval_share_per_kind(rps_candidates, by_source_kind=False)
    stratified, split_of = eval_share_per_kind(rps_candidates, by_source_kind=True)

    assert 0.12 <= stratified[egohands] <= 0.3 and 0.12 <= stratified[video] <= 0.3, stratified
    assert abs(stratified[video] - 0.2) < abs(plain[video] - 0.2), (plain, stratified)
    for kind, groups in groups_of_kind.items():
        if len(groups) == 1:  # e.g. the one photo session: wholly in train, like a class with one subject
            assert {split_of[g] for g in groups} == {"train"}, kind
    assert {c.class_name for c in rps_candidates if split_of[c.group] == "eval"} == {"paper", "rock", "scissors"}


def test_a_pattern_with_one_naming_scheme_splits_the_same_stratified_or_not(real_candidates):
    assert {c.source_kind for c in real_candidates} == {"group 1"}
    assert assign_splits(real_candidates, 0.2, SEED, by_source_kind=True) == assign_splits(real_candidates, 0.2, SEED)


def test_five_folds_hold_out_every_subject_exactly_once_with_a_fifth_of_each_class(real_candidates):
    from components.ingestion.group_split import split_groups

    held_out = Counter()
    for fold in range(5):
        split_of = split_groups(real_candidates, 0.2, SEED, folds=5, eval_fold=fold)
        eval_groups = {group for group, split in split_of.items() if split == "eval"}
        held_out.update(eval_groups)
        subjects = Counter(group.split("/")[0] for group in eval_groups)
        assert subjects == {"horses": 9, "humans": 3}  # 45 horse and 15 human subjects, a fifth of each
        require_every_class_in_eval(real_candidates, split_of, 0.2, "horse-or-human")
    assert set(held_out.values()) == {1} and len(held_out) == 60


def test_without_folds_the_split_is_the_eval_fraction_one(real_candidates):
    from components.ingestion.group_split import split_groups

    assert split_groups(real_candidates, 0.2, SEED) == assign_splits(real_candidates, 0.2, SEED)
    assert split_groups(real_candidates, 0.2, SEED, folds=3, eval_fold=1) != assign_splits(real_candidates, 0.2, SEED)


def test_folds_balance_images_when_groups_differ_in_size(rps_candidates):
    from components.ingestion.group_split import split_groups

    total = len(rps_candidates)
    held_out = Counter()
    for fold in range(3):
        split_of = split_groups(rps_candidates, 0.2, SEED, folds=3, eval_fold=fold)
        in_eval = [c for c in rps_candidates if split_of[c.group] == "eval"]
        assert 0.25 < len(in_eval) / total < 0.42, f"fold {fold}: {len(in_eval)} of {total} images"
        held_out.update({c.group for c in in_eval})
    assert set(held_out.values()) == {1} and len(held_out) == len({c.group for c in rps_candidates})
