"""components/weights/torchscript_reader.py: reads a TorchScript archive's tensors without torch, and runs no code from it."""
import zipfile

import pytest

from components.weights import WeightsError, read_torchscript_tensors


def test_reader_refuses_code_in_the_pickle(tmp_path):
    evil = tmp_path / "evil.pt"
    payload = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
    with pytest.raises(WeightsError, match="refusing to unpickle os.system"):
        read_torchscript_tensors(evil)
