"""Turns one image file into a tf.Example, or into a reason it was rejected.

Runs per image inside Beam. Formats the Transform graph cannot decode (CMYK
JPEG, TIFF/WebP under an image extension, palette BMP) and images above the
pixel limit are re-encoded as PNG (downscaled where needed) rather than
dropped: good data is never lost, and each such change is reported.
"""
from __future__ import annotations

import contextlib
import io
import threading
import warnings
from typing import Optional, Tuple

import tensorflow as tf
from PIL import Image

from components import constants
from components.ingestion.folder_scan import ImageCandidate

# Decoded by tf.io.decode_image as they are (format, PIL mode).
_TF_DECODABLE = {
    "JPEG": {"L", "RGB"},
    "PNG": {"L", "LA", "RGB", "RGBA", "P", "I;16", "I"},
    "GIF": {"P", "L", "RGB", "RGBA"},
    "BMP": {"RGB", "RGBA"},
}
# Pixels one image may take once decoded (about 200 MB as RGB), whatever its file size: a
# small file can claim a huge canvas (a decompression bomb). JPEGs are decoded at 1/2, 1/4
# or 1/8 scale when they are oversized (PIL's draft), so a JPEG up to 64 times this is fine.
_DECODED_PIXEL_LIMIT = 8192 * 8192
_JPEG_MAX_REDUCTION = 8
# PIL's own bomb check (at open, on the nominal size) only backs ours up: it must not refuse
# a big JPEG that draft() decodes small, nor call a big image corrupt.
_PIL_PIXEL_LIMIT = _DECODED_PIXEL_LIMIT * _JPEG_MAX_REDUCTION ** 2


@contextlib.contextmanager
def _pil_checks_backing_ours():
    """PIL's nominal-size limit raised to _PIL_PIXEL_LIMIT, and its bomb warning silenced, for one
    decode: the process's own setting is back afterwards."""
    before = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = _PIL_PIXEL_LIMIT
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = before


# Modes PIL resizes with interpolation as they are (palette images must be converted first).
_RESIZABLE_MODES = {"L", "LA", "RGB", "RGBA", "I", "F"}


def _tensorflow_decodes(raw: bytes) -> bool:
    """PIL forgives some damage (a PNG cut in its last chunk) that TensorFlow's decoders refuse."""
    try:
        tf.io.decode_image(raw, channels=3, expand_animations=False)
        return True
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
        return False


def _fitted_size(width: int, height: int, max_pixels: int) -> Tuple[int, int]:
    scale = (max_pixels / float(width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def _rgb_png_bytes(image: Image.Image, new_size: Optional[Tuple[int, int]]) -> bytes:
    if new_size and image.size != new_size:
        if image.mode not in _RESIZABLE_MODES:
            image = image.convert("RGB")
        image = image.resize(new_size, Image.BILINEAR)  # before any widening to RGB: less memory
    if image.mode != "RGB":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _too_big(width: int, height: int, decoded: Tuple[int, int]) -> str:
    return (
        f"image is {width}x{height} pixels; decoding it would take {decoded[0] * decoded[1] * 3 / 1e9:.1f} GB, "
        f"beyond the {_DECODED_PIXEL_LIMIT:,} pixel safety limit per image (a decompression bomb, or simply too "
        "big to ingest); downscale it before ingestion"
    )


# PIL's settings are the process's (_pil_checks_backing_ours changes them for one decode): images decoded
# on several threads (components/ingestion/executor.py) take turns in PIL; TensorFlow's decode, most of
# the time and free of the GIL, runs outside it.
_PIL_TURN = threading.Lock()


def _downscaled_size(probe: Image.Image, max_pixels: int) -> Optional[Tuple[int, int]]:
    """The size an image above max_pixels is downscaled to (None: it is not); a JPEG is then decoded at a
    reduced scale (PIL's draft), never the full canvas."""
    width, height = probe.size
    if width * height <= max_pixels:
        return None
    new_size = _fitted_size(width, height, max_pixels)
    probe.draft(None, new_size)
    return new_size


def _fits_as_is(raw: bytes, max_pixels: int) -> Tuple[bool, Optional[str]]:
    """(whether TensorFlow's decoder should take the file as it is, why it is rejected: None if it is not)
    from PIL's reading of its header."""
    with _PIL_TURN, _pil_checks_backing_ours():
        with Image.open(io.BytesIO(raw)) as probe:
            width, height = probe.size
            oversized = _downscaled_size(probe, max_pixels) is not None
            if probe.size[0] * probe.size[1] > _DECODED_PIXEL_LIMIT:
                return False, _too_big(width, height, probe.size)
            return not oversized and probe.mode in _TF_DECODABLE.get(probe.format, ()), None


def _reencoded(raw: bytes, max_pixels: int) -> Tuple[bytes, str]:
    """Too big, or a format or damage TensorFlow refuses: PIL decodes it fully (refusing truncated and
    corrupt data) and it is re-encoded as a PNG that TensorFlow reads."""
    with _PIL_TURN, _pil_checks_backing_ours():
        with Image.open(io.BytesIO(raw)) as probe:
            width, height = probe.size
            image_format, mode = probe.format, probe.mode
            new_size = _downscaled_size(probe, max_pixels)
            probe.load()
            encoded = _rgb_png_bytes(probe, new_size)
    if new_size:
        return encoded, f"{width}x{height} image downscaled to {new_size[0]}x{new_size[1]} PNG"
    return encoded, f"{image_format} {mode} image re-encoded as RGB PNG (not decodable by TensorFlow as is)"


def decode_candidate(candidate: ImageCandidate, max_pixels: int):
    """Returns (encoded_bytes, note) for a usable image or (None, reason) for a rejected one. Safe to call
    from several threads at once."""
    try:
        with open(candidate.path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        return None, f"cannot read the file ({err.strerror}); check its permissions"
    try:
        as_is, rejected = _fits_as_is(raw, max_pixels)
        if rejected:
            return None, rejected
        if as_is and _tensorflow_decodes(raw):
            # The decoder Transform uses took it whole (it refuses truncated and corrupt data): one full
            # decode per image, where PIL's as well doubled ingestion's time.
            return raw, None
        return _reencoded(raw, max_pixels)
    except Image.DecompressionBombError as err:
        return None, f"{err}; downscale it before ingestion"
    except Image.UnidentifiedImageError:
        # PIL's own message names only its in-memory buffer.
        return None, ("cannot decode as an image (its content is no image format this pipeline reads: JPEG, PNG, "
                      "GIF, BMP, or one PIL converts); the file is truncated or corrupt: re-export or re-copy it, "
                      "or remove it")
    except (OSError, SyntaxError, ValueError) as err:
        return None, (
            f"cannot decode as an image ({type(err).__name__}: {err}); the file is truncated or corrupt: "
            "re-export or re-copy it, or remove it"
        )


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def build_example(candidate: ImageCandidate, encoded: bytes) -> bytes:
    """The serialized tf.Example for one accepted image."""
    features = {
        constants.IMAGE_BYTES_KEY: _bytes_feature(encoded),
        constants.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[candidate.label])),
        constants.CLASS_NAME_KEY: _bytes_feature(candidate.class_name.encode("utf-8")),
        constants.FILE_PATH_KEY: _bytes_feature(candidate.relative_path.encode("utf-8")),
        constants.GROUP_KEY: _bytes_feature(candidate.group.encode("utf-8")),
        constants.SPAN_KEY: _bytes_feature(candidate.span.encode("utf-8")),
    }
    # deterministic: the features in key order. Otherwise the C++ protobuf writes a map in an order that
    # changes from call to call, and the same images gave other bytes every run.
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString(deterministic=True)
