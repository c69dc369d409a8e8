"""Deterministic train/eval split by subject group, stratified by class.

Near-duplicate views of one subject must never sit on both sides of the
split, or eval accuracy is inflated. Groups are ordered by a stable hash (not
Python's salted hash()), so every run and every machine gives the same split.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Dict, Iterable

from components.constants import EVAL_SPLIT, TRAIN_SPLIT


def _stable_rank(seed: str, group: str) -> str:
    return hashlib.sha256(f"{seed}\x00{group}".encode("utf-8")).hexdigest()


def assign_splits(candidates: Iterable, eval_fraction: float, seed: str) -> Dict[str, str]:
    """Maps each group to 'train' or 'eval'.

    Within each class, groups are taken in hash order into eval until eval
    holds at least `eval_fraction` of that class's images; a class with a
    single group stays wholly in train. Returns {group: split}.
    """
    images_per_group: Dict[str, int] = defaultdict(int)
    groups_per_class: Dict[str, set] = defaultdict(set)
    for candidate in candidates:
        images_per_group[candidate.group] += 1
        groups_per_class[candidate.class_name].add(candidate.group)

    split_of: Dict[str, str] = {}
    for groups in groups_per_class.values():
        ordered = sorted(groups, key=lambda g: _stable_rank(seed, g))
        target = eval_fraction * sum(images_per_group[g] for g in ordered)
        in_eval = 0
        for index, group in enumerate(ordered):
            keep_one_for_train = index == len(ordered) - 1
            if in_eval < target and not keep_one_for_train:
                split_of[group] = EVAL_SPLIT
                in_eval += images_per_group[group]
            else:
                split_of[group] = TRAIN_SPLIT
    return split_of
