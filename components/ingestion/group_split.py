"""Deterministic train/eval split by subject group, stratified by class.

Near-duplicate views of one subject must never sit on both sides of the
split, or eval accuracy is inflated. Groups are ordered by a stable hash (not
Python's salted hash()), so every run and every machine gives the same split.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Dict, Iterable, Tuple

from components.constants import EVAL_SPLIT, TRAIN_SPLIT
from components.ingestion.folder_scan import DataError


# A class's eval share may end up at most this many times eval_fraction.
OVERSHOOT = 1.5


def stable_rank(seed: str, name: str) -> str:
    """A sort key for `name` that is the same on every run and machine, and another for another seed."""
    return hashlib.sha256(f"{seed}\x00{name}".encode("utf-8")).hexdigest()


def assign_splits(candidates: Iterable, eval_fraction: float, seed: str, by_source_kind: bool = False) -> Dict[str, str]:
    """Maps each group to 'train' or 'eval'.

    Groups are taken in hash order into eval while any class they hold still
    has less than `eval_fraction` of its images in eval, unless the group
    would take one of its classes past OVERSHOOT times that share (a big
    clip of every gesture must not fill eval with one class); the last group
    of each class (in that order) stays in train, so a class with a single
    group is wholly in train. A group may hold several classes: it goes to
    one split whole. Returns {group: split}.

    by_source_kind: the same, with each naming scheme of the group pattern
    (the candidate's source_kind: video clips, egohands frames, ...) and
    class as its own stratum, so that eval holds about `eval_fraction` of
    every kind of source instead of whichever kind has the most groups;
    a kind with a single group stays in train.
    """
    def stratum(candidate) -> Tuple[str, str]:
        return (candidate.source_kind if by_source_kind else "", candidate.class_name)

    images: Dict[str, Counter] = defaultdict(Counter)
    for candidate in candidates:
        images[candidate.group][stratum(candidate)] += 1
    ordered = sorted(images, key=lambda g: stable_rank(seed, g))
    per_stratum: Counter = Counter()
    last_group_of: Dict[Tuple[str, str], str] = {}
    for group in ordered:
        per_stratum.update(images[group])
        last_group_of.update({key: group for key in images[group]})

    split_of: Dict[str, str] = {}
    in_eval: Counter = Counter()
    for group in ordered:
        strata = images[group]
        keep_for_train = any(last_group_of[key] == group for key in strata)
        wanted = any(in_eval[key] < eval_fraction * per_stratum[key] for key in strata)
        too_big = any(in_eval[key] + count > OVERSHOOT * eval_fraction * per_stratum[key] for key, count in strata.items())
        if wanted and not keep_for_train and not too_big:
            split_of[group] = EVAL_SPLIT
            in_eval.update(strata)
        else:
            split_of[group] = TRAIN_SPLIT
    return split_of


def assign_folds(candidates: Iterable, folds: int, eval_fold: int, seed: str, by_source_kind: bool = False) -> Dict[str, str]:
    """Maps each group to 'train' or 'eval' for fold `eval_fold` of `folds` group-wise folds.

    Each stratum's groups (class, or source kind and class, as in assign_splits) are taken in the
    seed's hash order, each into the fold that so far holds the fewest of that stratum's images
    (on a tie, the one holding the fewest images of all strata, then the lowest-numbered), so that
    over the folds every group is held out exactly once and
    each fold holds about 1/folds of every stratum's images, also when groups differ in size (a
    long video clip beside single photos). Groups of equal size are dealt round-robin. A group
    that holds several classes goes with its first stratum (in sorted order).
    """
    def stratum(candidate) -> Tuple[str, str]:
        return (candidate.source_kind if by_source_kind else "", candidate.class_name)

    strata_of: Dict[str, set] = defaultdict(set)
    size: Counter = Counter()
    for candidate in candidates:
        strata_of[candidate.group].add(stratum(candidate))
        size[candidate.group] += 1
    groups_of: Dict[Tuple[str, str], list] = defaultdict(list)
    for group, strata in strata_of.items():
        groups_of[min(strata)].append(group)
    split_of: Dict[str, str] = {}
    held_in_all = [0] * folds
    for key in sorted(groups_of):
        held = [0] * folds
        for group in sorted(groups_of[key], key=lambda g: stable_rank(seed, g)):
            fold = min(range(folds), key=lambda f: (held[f], held_in_all[f], f))
            held[fold] += size[group]
            held_in_all[fold] += size[group]
            split_of[group] = EVAL_SPLIT if fold == eval_fold else TRAIN_SPLIT
    return split_of


def split_groups(candidates: Iterable, eval_fraction: float, seed: str, by_source_kind: bool = False,
                 folds: int = 0, eval_fold: int = 0) -> Dict[str, str]:
    """The run's split: fold `eval_fold` of `folds` when folds is set (benchmarks/folds_and_seeds.py
    measures a recipe over every fold), else about eval_fraction of each stratum (assign_splits)."""
    candidates = list(candidates)
    if folds:
        return assign_folds(candidates, folds, eval_fold, seed, by_source_kind)
    return assign_splits(candidates, eval_fraction, seed, by_source_kind)


def require_every_class_in_eval(candidates: Iterable, split_of: Dict[str, str], eval_fraction: float, data_dir: str):
    """Raises DataError naming each class the split leaves without eval images: the promotion gate
    checks every class's recall on eval, and a class with no eval images would go unchecked."""
    candidates = list(candidates)
    in_eval = {c.class_name for c in candidates if split_of[c.group] == EVAL_SPLIT}
    missing = sorted({c.class_name for c in candidates} - in_eval)
    if not missing:
        return
    lines = []
    for name in missing:
        groups = sorted({c.group for c in candidates if c.class_name == name})
        shown = ", ".join(groups[:3]) + (f" and {len(groups) - 3} more" if len(groups) > 3 else "")
        lines.append(f"{name!r}: {sum(c.class_name == name for c in candidates)} images in {len(groups)} "
                     f"subject group(s) ({shown})")
    raise DataError(
        f"{data_dir}: the train/eval split leaves no eval images for " + "; ".join(lines) + ". A class's last "
        f"group always stays in train, and no group may take a class past {OVERSHOOT * eval_fraction:.0%} of its "
        "images in eval, so the promotion gate could not check these classes. Add images of more subjects "
        "(more groups) to each, or change group_pattern so that their file names form more groups."
    )
