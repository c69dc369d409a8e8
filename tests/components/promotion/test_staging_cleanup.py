"""components/promotion/staging_cleanup.py: a push cut short leaves a staging folder; the next run removes it."""
import os
import time

from components.promotion.serving_versions import _STAGING_PREFIX
from components.promotion.staging_cleanup import clean_orphaned_staging


def make_serving_dir(root):
    for name in ("1", f"{_STAGING_PREFIX}2", f"{_STAGING_PREFIX}3"):
        (root / name / "variables").mkdir(parents=True)
        (root / name / "saved_model.pb").write_bytes(b"model")
    hour_ago = time.time() - 3700
    os.utime(root / f"{_STAGING_PREFIX}2", (hour_ago, hour_ago))
    return root


def test_every_staging_folder_is_removed_and_versions_kept(tmp_path):
    serving = make_serving_dir(tmp_path / "serving")

    removed = clean_orphaned_staging(str(serving))

    assert sorted(os.path.basename(p) for p in removed) == [f"{_STAGING_PREFIX}2", f"{_STAGING_PREFIX}3"]
    assert sorted(os.listdir(serving)) == ["1"] and (serving / "1" / "saved_model.pb").exists()


def test_a_recent_staging_folder_is_spared_when_asked(tmp_path):
    serving = make_serving_dir(tmp_path / "serving")

    removed = clean_orphaned_staging(str(serving), older_than_s=3600)  # another run may be pushing right now

    assert [os.path.basename(p) for p in removed] == [f"{_STAGING_PREFIX}2"]
    assert sorted(os.listdir(serving)) == [f"{_STAGING_PREFIX}3", "1"]


def test_a_missing_serving_dir_is_nothing_to_clean(tmp_path):
    assert clean_orphaned_staging(str(tmp_path / "never-pushed")) == []
