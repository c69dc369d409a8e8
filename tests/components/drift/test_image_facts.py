"""Format by magic bytes, size from the header."""
import io

from PIL import Image

from components.drift.image_facts import image_format, image_size


def encoded(image_format_name, size=(37, 21), mode="RGB"):
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=image_format_name)
    return out.getvalue()


def test_each_format_is_read_from_its_bytes_not_its_name():
    assert [image_format(encoded(f)) for f in ("PNG", "JPEG", "GIF", "BMP")] == ["png", "jpeg", "gif", "bmp"]
    assert image_format(b"not an image") == "other"


def test_width_and_height_come_from_the_header():
    assert image_size(encoded("PNG", (37, 21))) == (37, 21)
    assert image_size(encoded("JPEG", (64, 48))) == (64, 48)
    assert image_size(b"\x89PNG\r\n\x1a\ntruncated") == (0, 0)
