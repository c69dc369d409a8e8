"""Turns one image file into a tf.Example, or into a reason it was rejected.

Runs per image inside Beam. Formats the Transform graph cannot decode (CMYK
JPEG, TIFF/WebP under an image extension, palette BMP) and images above the
pixel limit are re-encoded as PNG (downscaled where needed) rather than
dropped: good data is never lost, and each such change is reported.
"""
from __future__ import annotations

import io
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
# Beyond this the file is refused rather than decoded (memory safety).
_HARD_PIXEL_LIMIT = 20000 * 20000
Image.MAX_IMAGE_PIXELS = _HARD_PIXEL_LIMIT  # PIL's own, smaller, bomb limit would misreport big images as corrupt


def _tensorflow_decodes(raw: bytes) -> bool:
    """PIL forgives some damage (a PNG cut in its last chunk) that TensorFlow's decoders refuse."""
    try:
        tf.io.decode_image(raw, channels=3, expand_animations=False)
        return True
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
        return False


def _rgb_png_bytes(image: Image.Image, max_pixels: int) -> Tuple[bytes, Optional[Tuple[int, int]]]:
    new_size = None
    width, height = image.size
    if width * height > max_pixels:
        scale = (max_pixels / float(width * height)) ** 0.5
        new_size = (max(1, int(width * scale)), max(1, int(height * scale)))
        image.draft("RGB", new_size)  # lets JPEG decode at reduced size
    image = image.convert("RGB")
    if new_size and image.size != new_size:
        image = image.resize(new_size, Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), new_size


def decode_candidate(candidate: ImageCandidate, max_pixels: int):
    """Returns (encoded_bytes, note) for a usable image or (None, reason) for a rejected one."""
    try:
        with open(candidate.path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        return None, f"cannot read the file ({err.strerror}); check its permissions"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                width, height = probe.size
                image_format, mode = probe.format, probe.mode
                if width * height > _HARD_PIXEL_LIMIT:
                    return None, (
                        f"image is {width}x{height} pixels, beyond the {_HARD_PIXEL_LIMIT:,} pixel safety limit; "
                        "downscale it before ingestion"
                    )
                probe.load()  # a full decode: catches truncated and corrupt data
                oversized = width * height > max_pixels
                if oversized or mode not in _TF_DECODABLE.get(image_format, ()) or not _tensorflow_decodes(raw):
                    encoded, new_size = _rgb_png_bytes(probe, max_pixels)
                    if new_size:
                        note = f"{width}x{height} image downscaled to {new_size[0]}x{new_size[1]} PNG"
                    else:
                        note = f"{image_format} {mode} image re-encoded as RGB PNG (not decodable by TensorFlow as is)"
                    return encoded, note
    except Image.DecompressionBombError as err:
        return None, f"{err}; downscale it before ingestion"
    except (OSError, SyntaxError, ValueError) as err:
        return None, (
            f"cannot decode as an image ({type(err).__name__}: {err}); the file is truncated or corrupt: "
            "re-export or re-copy it, or remove it"
        )
    return raw, None


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
    }
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()
