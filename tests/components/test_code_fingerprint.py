"""components/code_fingerprint.py: which files count is derived from what the functions import."""
import os
import shutil

from components import code_fingerprint as fingerprinting
from components.code_fingerprint import code_files, code_fingerprint

RUN_FN = "components.trainer.trainer_module.run_fn"
PREPROCESSING_FN = "components.transform.preprocessing.preprocessing_fn"


def relative(paths):
    return {os.path.relpath(p, fingerprinting._PROJECT_ROOT) for p in paths}  # noqa: SLF001


def test_the_trainers_files_are_what_run_fn_imports_directly_or_through_others():
    files = relative(code_files(RUN_FN))
    # Imported by run_fn's module, and by the modules it imports (weights through the model builder).
    assert {"components/trainer/trainer_module.py", "components/model/build.py", "components/model/signatures.py",
            "components/weights/store.py", "components/constants.py"} <= files
    # What the Trainer never runs does not count: the gate, ingestion, the pipeline's wiring.
    # Warm start orders spans by ingestion's own rule (components/model/warm_start.py): that module alone.
    assert not {f for f in files if f.startswith(("components/promotion/", "components/ingestion/", "pipeline/"))} - {
        "components/ingestion/__init__.py", "components/ingestion/folder_scan.py"}


def test_transforms_files_are_its_preprocessing_and_not_the_model():
    files = relative(code_files(PREPROCESSING_FN))
    assert {"components/transform/preprocessing.py", "components/transform/settings.py"} <= files
    assert not {f for f in files if f.startswith("components/model/")}


def test_a_new_helper_module_joins_the_fingerprint_when_imported(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(fingerprinting._PROJECT_ROOT + "/components", root / "components",  # noqa: SLF001
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprinting, "_PROJECT_ROOT", str(root))
    before = code_fingerprint(RUN_FN)
    (root / "components" / "model" / "new_helper.py").write_text("SCALE = 2\n")
    assert code_fingerprint(RUN_FN) == before  # not imported: not run by the Trainer
    build = root / "components" / "model" / "build.py"
    build.write_text(build.read_text() + "\n\ndef _scaled(x):\n    from components.model.new_helper import SCALE\n    return x * SCALE\n")
    first = code_fingerprint(RUN_FN)
    assert first != before and "components/model/new_helper.py" in relative(code_files(RUN_FN))
    (root / "components" / "model" / "new_helper.py").write_text("SCALE = 3\n")
    assert code_fingerprint(RUN_FN) != first
