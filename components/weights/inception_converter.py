"""Turn the TorchScript InceptionV3 (inception-2015-12-05) into Keras weights.

Both networks are the same stack of 94 conv + batch-norm pairs: convs
without bias, batch norms with beta, moving mean and moving variance but no
gamma (Keras builds them with scale=False), epsilon 1e-3. The TorchScript
module lists its pairs in the order Keras creates its layers, so pair i of
the archive goes into the i-th Conv2D / BatchNormalization Keras created.
"""

import re

import numpy as np
import tf_keras as keras

from components.weights.errors import WeightsError
from components.weights.torchscript_reader import read_torchscript_tensors

INCEPTION_CONV_BN_PAIRS = 94
_TORCH_PAIR_FIELDS = ("weight", "beta", "mean", "var")
_BATCH_NORM_EPSILON = 1e-3


def build_inception_notop():
    """An untrained Keras InceptionV3 without its classifier (the shape the weights file is for)."""
    return keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(None, None, 3))


def _creation_index(layer):
    # Keras names layers conv2d, conv2d_1, conv2d_2, ... in creation order;
    # the counter keeps running across models, so only the relative order counts.
    match = re.search(r"_(\d+)$", layer.name)
    return int(match.group(1)) if match else 0


def keras_conv_bn_layers(model):
    """(Conv2D, BatchNormalization) pairs of `model` in creation order, not `model.layers` order."""
    convs = sorted((l for l in model.layers if isinstance(l, keras.layers.Conv2D)), key=_creation_index)
    norms = sorted(
        (l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)), key=_creation_index
    )
    return list(zip(convs, norms))


def group_conv_bn_tensors(tensors, pt_path="TorchScript file"):
    """[(module name, kernel, beta, mean, var)] from read_torchscript_tensors' flat list."""
    if len(tensors) % len(_TORCH_PAIR_FIELDS):
        raise WeightsError(f"{pt_path}: {len(tensors)} tensors do not form conv/BN groups of 4")
    groups = []
    for start in range(0, len(tensors), len(_TORCH_PAIR_FIELDS)):
        chunk = tensors[start : start + len(_TORCH_PAIR_FIELDS)]
        module = chunk[0][0].rsplit(".", 1)[0]
        fields = tuple(name.rsplit(".", 1)[-1] for name, _ in chunk)
        if fields != _TORCH_PAIR_FIELDS or any(not name.startswith(module + ".") for name, _ in chunk):
            raise WeightsError(
                f"{pt_path}: expected {module}.{{weight,beta,mean,var}}, found {[n for n, _ in chunk]}; "
                "not the InceptionV3 layout this converter knows"
            )
        groups.append((module, *(array for _, array in chunk)))
    return groups


def _check_batch_norm(layer):
    config = layer.get_config()
    if config["scale"] or not config["center"] or abs(config["epsilon"] - _BATCH_NORM_EPSILON) > 1e-9:
        raise WeightsError(
            f"Keras layer {layer.name} is not BatchNormalization(scale=False, center=True, "
            f"epsilon=1e-3) (got {config['scale']=}, {config['center']=}, {config['epsilon']=}); "
            "this tf_keras InceptionV3 differs from the one the converter was written for"
        )


def assign_torch_weights(model, groups, pt_path="TorchScript file"):
    """Copy conv/BN groups into the Keras model, checking every shape."""
    pairs = keras_conv_bn_layers(model)
    if len(pairs) != len(groups):
        raise WeightsError(f"{pt_path}: {len(groups)} conv/BN pairs, but Keras InceptionV3 has {len(pairs)}")
    for (conv, norm), (module, kernel, beta, mean, var) in zip(pairs, groups):
        _check_batch_norm(norm)
        keras_kernel = np.transpose(kernel, (2, 3, 1, 0))  # torch (out, in, h, w) -> Keras (h, w, in, out)
        expected = [tuple(w.shape) for w in conv.weights]
        if expected != [keras_kernel.shape]:
            raise WeightsError(
                f"{pt_path}: {module} kernel {keras_kernel.shape} does not fit Keras {conv.name} {expected} "
                "(conv with bias, or layers out of order)"
            )
        conv.set_weights([keras_kernel])
        norm.set_weights([beta, mean, var])  # scale=False: [beta, moving_mean, moving_variance]


def convert_torchscript_to_keras(pt_path, out_path, *, progress=print):
    """Write Keras InceptionV3 no-top weights (HDF5, `out_path` ending .h5) from a TorchScript file."""
    if not str(out_path).endswith(".h5"):
        raise WeightsError(f"{out_path}: the output must end in .h5 (Keras HDF5 weights)")
    groups = group_conv_bn_tensors(read_torchscript_tensors(pt_path), pt_path)
    if len(groups) != INCEPTION_CONV_BN_PAIRS:
        raise WeightsError(
            f"{pt_path}: {len(groups)} conv/BN pairs, InceptionV3 has {INCEPTION_CONV_BN_PAIRS}"
        )
    progress(f"converting {len(groups)} conv/BN pairs into Keras InceptionV3 (no top)")
    model = build_inception_notop()
    assign_torch_weights(model, groups, pt_path)
    model.save_weights(str(out_path))
    return str(out_path)
