"""What the format and size checks read of an encoded image: its format (from the file's magic bytes, not
its name) and its width and height (from the header; PIL reads no pixels for this)."""
from __future__ import annotations

import io
from typing import Tuple

from PIL import Image

# The formats the pipeline decodes (components/constants.py: IMAGE_EXTENSIONS), by their files' first bytes.
MAGIC_BYTES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)
OTHER_FORMAT = "other"


def image_format(encoded: bytes) -> str:
    """'png', 'jpeg', 'gif', 'bmp', or 'other'."""
    for magic, name in MAGIC_BYTES:
        if encoded.startswith(magic):
            return name
    return OTHER_FORMAT


def image_size(encoded: bytes) -> Tuple[int, int]:
    """(width, height) in pixels; (0, 0) for bytes PIL cannot read (ingestion rejects those before a span
    is summarised, so it only keeps a summary from failing on them)."""
    try:
        with Image.open(io.BytesIO(encoded)) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return (0, 0)
