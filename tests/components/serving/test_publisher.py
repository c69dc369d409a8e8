"""components/serving/publisher.py: numbering, staging, pruning under the lock."""
import multiprocessing
import os
import socket
import time

from components.serving import publisher as vp
from components.serving.lock import serving_lock
from components.serving.versions import PUSH_RECORD, STAGING_PREFIX, scan

# Children come from a fork server, a fresh single-threaded process: a test process that has run TensorFlow,
# Beam or gRPC holds their threads' locks, and a child forked from it crashed in its garbage collector.
CHILDREN = multiprocessing.get_context("forkserver")


def _exit_at_once():
    """A process that ends as soon as it starts: its pid is then a dead one."""


def _push_when_started(model_dir, serving_dir, start, index, results):
    staging = vp.stage_model(model_dir, serving_dir)
    start.wait(30)
    with serving_lock(serving_dir, f"pusher {index}"):
        pushed = vp.publish_staged(staging, serving_dir, {"fingerprint": f"model-{index}"})
    results.put((index, pushed.version))


def test_concurrent_pushers_get_distinct_versions_and_keep_each_others_staging(tmp_path, files_model):
    model = files_model(tmp_path / "model")
    serving = str(tmp_path / "serving")
    start, results = CHILDREN.Event(), CHILDREN.Queue()
    processes = [CHILDREN.Process(target=_push_when_started, args=(model, serving, start, i, results)) for i in range(6)]
    for process in processes:
        process.start()
    start.set()  # all six staged; now they race for numbers
    for process in processes:
        process.join(60)
    pushed = dict(results.get(timeout=5) for _ in processes)

    assert len(set(pushed.values())) == 6
    folders = scan(serving)
    assert [f.version for f in folders] == sorted(pushed.values())
    assert {f.record["fingerprint"] for f in folders} == {f"model-{i}" for i in range(6)}
    assert all(os.path.exists(os.path.join(f.path, "saved_model.pb")) for f in folders)
    assert not [name for name in os.listdir(serving) if name.startswith(STAGING_PREFIX)]


def test_versions_go_above_every_numbered_folder_even_unmanaged_ones(tmp_path, files_model):
    serving = tmp_path / "serving"
    files_model(serving / "99999999999")  # hand-copied, far in the future
    staging = vp.stage_model(files_model(tmp_path / "model"), str(serving))
    with serving_lock(str(serving), "test"):
        pushed = vp.publish_staged(staging, str(serving), {"fingerprint": "x"})
    assert pushed.version == 100000000000
    assert os.path.exists(os.path.join(pushed.path, PUSH_RECORD))


def test_only_orphaned_staging_folders_are_cleaned(tmp_path, files_model):
    serving = tmp_path / "serving"
    model = files_model(tmp_path / "model")
    mine = vp.stage_model(model, str(serving))  # this live process: kept
    dead = CHILDREN.Process(target=_exit_at_once)
    dead.start()
    dead.join()
    now, host = int(time.time()), socket.gethostname()
    orphan = serving / f"{STAGING_PREFIX}{now}-{dead.pid}-abcd-{host}"  # its process is gone
    other_host_fresh = serving / f"{STAGING_PREFIX}{now}-1-abcd-pod-7"  # another machine, still copying
    other_host_stale = serving / f"{STAGING_PREFIX}{now - vp.STALE_STAGING_S - 1}-1-abcd-pod-8"  # died long ago
    for folder in (orphan, other_host_fresh, other_host_stale):
        files_model(folder)

    with serving_lock(str(serving), "test"):
        cleaned = vp.clean_orphaned_staging(str(serving))

    assert sorted(cleaned) == sorted([str(orphan), str(other_host_stale)])
    assert os.path.isdir(mine) and other_host_fresh.is_dir()


def test_prune_keeps_the_newest_and_every_protected_version(tmp_path, push, files_model):
    serving = tmp_path / "serving"
    pushed = [push(serving, files_model(tmp_path / f"m{i}", content=bytes([i]))).version for i in range(5)]
    files_model(serving / "1")  # not pushed by the pipeline: never pruned

    with serving_lock(str(serving), "test"):
        deleted = vp.prune_versions(str(serving), keep=2, protect=(pushed[0], None))

    assert deleted == pushed[1:3]
    assert [f.version for f in scan(str(serving))] == [1, pushed[0]] + pushed[3:]
    assert not [name for name in os.listdir(serving) if name.startswith(STAGING_PREFIX)]
