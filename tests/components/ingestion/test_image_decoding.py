"""components/ingestion/image_decoding.py: one file -> kept bytes (maybe converted) or a reason.

The contract checked throughout: whatever ingestion accepts, the Transform
graph (decode_and_resize) can decode; whatever it rejects gets a reason that
says what is wrong and what to do.
"""
import concurrent.futures
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components import constants
from components.ingestion.folder_scan import ImageCandidate, scan_image_folder
from components.ingestion.image_decoding import build_example, decode_candidate
from components.transform.preprocessing import decode_and_resize
from pipeline.config import DEFAULT_GROUP_PATTERN, PipelineConfig

MAX_PIXELS = PipelineConfig().max_image_pixels
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CORRUPT = "the file is truncated or corrupt"


def encode(image, image_format, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def decode_file(path, data: bytes, max_pixels=MAX_PIXELS):
    path.write_bytes(data)
    candidate = ImageCandidate(str(path), f"c/{path.name}", "c", 0, "c/x")
    return decode_candidate(candidate, max_pixels)


def assert_transform_can_decode(encoded: bytes):
    image = decode_and_resize(tf.constant(encoded))
    assert image.shape == (constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS)


@pytest.fixture(scope="module")
def horse_jpeg(horse_rgb):
    return encode(horse_rgb, "JPEG", quality=90)


@pytest.mark.parametrize(
    "name, make",
    [
        ("rgba.png", lambda im: encode(im.convert("RGBA"), "PNG")),
        ("rgb.jpg", lambda im: encode(im, "JPEG")),
        ("gray.jpg", lambda im: encode(im.convert("L"), "JPEG")),
        ("gray.png", lambda im: encode(im.convert("L"), "PNG")),
        ("palette.png", lambda im: encode(im.convert("P"), "PNG")),
        ("gray16.png", lambda im: encode(im.convert("L").convert("I;16"), "PNG")),
        ("still.gif", lambda im: encode(im.convert("P"), "GIF")),
        ("animated.gif", lambda im: encode(im, "GIF", save_all=True, append_images=[im.rotate(90)])),
        ("rgb.bmp", lambda im: encode(im, "BMP")),
        ("rgba.bmp", lambda im: encode(im.convert("RGBA"), "BMP")),
    ],
)
def test_formats_transform_reads_are_kept_byte_for_byte(tmp_path, horse_rgb, name, make):
    original = make(horse_rgb)

    encoded, note = decode_file(tmp_path / name, original)

    assert (encoded, note) == (original, None)
    assert_transform_can_decode(encoded)


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_an_image_tensorflow_reads_is_decoded_once_and_a_cmyk_one_by_pil(tmp_path, horse_rgb, horse_png, horse_jpeg,
                                                                       kind, monkeypatch):
    from PIL import ImageFile

    pil_decodes = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pil_decodes.append(self.format) or real_load(self))

    assert decode_file(tmp_path / f"ok.{kind}", horse_png if kind == "png" else horse_jpeg)[1] is None
    assert pil_decodes == []  # TensorFlow's decode alone; PIL read the header only

    encoded, note = decode_file(tmp_path / "cmyk.jpg", encode(horse_rgb.convert("CMYK"), "JPEG"))
    assert set(pil_decodes) == {"JPEG"} and "re-encoded as RGB PNG" in note
    assert_transform_can_decode(encoded)


def test_every_real_image_is_accepted_unchanged(horse_or_human_dir):
    scan = scan_image_folder(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN)
    notes = {}
    for candidate in scan.candidates:
        encoded, note = decode_candidate(candidate, MAX_PIXELS)
        if encoded is None or note:
            notes[candidate.relative_path] = note

    assert len(scan.candidates) == 915 and notes == {}


def test_cmyk_jpeg_is_converted_to_rgb_png_with_a_note(tmp_path, horse_rgb):
    cmyk = encode(horse_rgb.convert("CMYK"), "JPEG", quality=95)

    encoded, note = decode_file(tmp_path / "print.jpg", cmyk)

    assert "CMYK" in note and "RGB PNG" in note
    converted = Image.open(io.BytesIO(encoded))
    assert (converted.format, converted.mode, converted.size) == ("PNG", "RGB", (300, 300))
    expected = np.asarray(Image.open(io.BytesIO(cmyk)).convert("RGB"), dtype=np.float32)
    assert np.abs(np.asarray(converted, dtype=np.float32) - expected).mean() < 1.0
    assert_transform_can_decode(encoded)


@pytest.mark.parametrize("disguise, image_format", [("photo.jpg", "WEBP"), ("scan.png", "TIFF")])
def test_other_formats_under_an_image_extension_are_converted_not_lost(tmp_path, horse_rgb, disguise, image_format):
    encoded, note = decode_file(tmp_path / disguise, encode(horse_rgb, image_format))

    assert image_format in note and "re-encoded" in note
    assert Image.open(io.BytesIO(encoded)).format == "PNG"
    assert_transform_can_decode(encoded)


def test_huge_image_is_downscaled_under_the_pixel_limit_with_a_note(tmp_path):
    huge = Image.new("RGB", (8000, 8000), (20, 120, 200))
    huge.paste((250, 250, 250), (0, 0, 4000, 8000))  # left half white: the picture must survive
    data = encode(huge, "PNG")
    del huge

    encoded, note = decode_file(tmp_path / "huge.png", data)

    smaller = Image.open(io.BytesIO(encoded))
    width, height = smaller.size
    assert note == f"8000x8000 image downscaled to {width}x{height} PNG"
    assert width == height and width * height <= MAX_PIXELS and width * height > MAX_PIXELS * 0.95
    assert smaller.getpixel((10, 10)) == (250, 250, 250) and smaller.getpixel((width - 10, 10)) == (20, 120, 200)


def test_huge_jpeg_is_downscaled_too(tmp_path, horse_jpeg):
    encoded, note = decode_file(tmp_path / "horse.jpg", horse_jpeg, max_pixels=100 * 100)

    assert note == "300x300 image downscaled to 100x100 PNG"
    assert Image.open(io.BytesIO(encoded)).size == (100, 100)


@pytest.mark.parametrize("kind", ["png", "jpeg"])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_files_are_rejected_with_the_fix(tmp_path, horse_png, horse_jpeg, kind, keep):
    data = horse_png if kind == "png" else horse_jpeg

    encoded, reason = decode_file(tmp_path / f"cut.{kind}", data[: int(len(data) * keep)])

    assert encoded is None
    assert CORRUPT in reason and "re-export or re-copy it, or remove it" in reason


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, b"hello, not a picture\n"])
def test_corrupt_and_non_image_content_is_rejected_with_the_fix(tmp_path, content):
    encoded, reason = decode_file(tmp_path / "broken.png", content)

    assert encoded is None and CORRUPT in reason and "remove it" in reason


@pytest.mark.parametrize("cut", [1, 12, 16])
def test_png_cut_in_its_last_bytes_is_either_rejected_or_decodable_by_transform(tmp_path, horse_png, cut):
    encoded, reason = decode_file(tmp_path / "tail-cut.png", horse_png[:-cut])

    if encoded is not None:
        assert_transform_can_decode(encoded)
    else:
        assert CORRUPT in reason


def test_image_beyond_the_safety_limit_is_rejected_as_too_big_not_as_corrupt(tmp_path, png_canvas):
    encoded, reason = decode_file(tmp_path / "panorama.png", png_canvas(25000, 25000))

    assert encoded is None
    assert "25000x25000" in reason and "downscale" in reason and "corrupt" not in reason


def test_a_decompression_bomb_is_rejected_before_its_pixels_are_decoded(tmp_path, png_canvas):
    bomb = png_canvas(12000, 12000)  # 144 million pixels (432 MB as RGB) in a file of a few hundred KB
    assert len(bomb) < 1_000_000

    encoded, reason = decode_file(tmp_path / "bomb.png", bomb)

    assert encoded is None and "12000x12000" in reason and "decompression bomb" in reason


def test_images_decoded_on_several_threads_at_once_come_out_as_one_at_a_time(tmp_path, horse_rgb, horse_png, png_canvas):
    files = {"ok.png": horse_png, "ok.jpg": encode(horse_rgb, "JPEG"), "cmyk.jpg": encode(horse_rgb.convert("CMYK"), "JPEG"),
             "cut.png": horse_png[: len(horse_png) // 2], "bomb.png": png_canvas(12000, 12000), "text.png": b"not an image"}
    candidates = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        candidates.append(ImageCandidate(str(tmp_path / name), f"c/{name}", "c", 0, "c/x"))
    setting = Image.MAX_IMAGE_PIXELS
    one_at_a_time = [decode_candidate(candidate, MAX_PIXELS) for candidate in candidates]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        at_once = list(pool.map(lambda candidate: decode_candidate(candidate, MAX_PIXELS), candidates * 8))

    assert at_once == one_at_a_time * 8
    assert [reason is None for _, reason in one_at_a_time] == [True, True, False, False, False, False]
    assert Image.MAX_IMAGE_PIXELS == setting  # PIL's process-wide limit is back, whatever the interleaving


# Decodes one file in a fresh process and prints how much its peak memory grew (MB) and the note.
MEASURE_DECODE = """
import sys
from components.ingestion.folder_scan import ImageCandidate
from components.ingestion.image_decoding import decode_candidate

def peak_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) // 1024

before = peak_mb()
encoded, note = decode_candidate(ImageCandidate(sys.argv[1], "c/big.jpg", "c", 0, "c/big"), int(sys.argv[2]))
print(peak_mb() - before, note)
"""


def test_a_20000_pixel_square_jpeg_is_decoded_at_reduced_scale_not_in_full(tmp_path):
    big = Image.new("L", (20000, 20000), 40)
    big.paste(220, (0, 0, 10000, 20000))
    path = tmp_path / "big.jpg"
    big.save(path, "JPEG", quality=80)
    del big

    measured = subprocess.run([sys.executable, "-c", MEASURE_DECODE, str(path), str(MAX_PIXELS)],
                              capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    grown_mb, note = measured.stdout.split(" ", 1)

    assert note.strip() == "20000x20000 image downscaled to 4096x4096 PNG"
    assert int(grown_mb) < 300, f"decoding took {grown_mb} MB more (the full canvas is 400 MB, 1.2 GB as RGB)"


def test_example_carries_bytes_label_class_path_and_group(tmp_path, horse_png):
    candidate = ImageCandidate(str(tmp_path / "h.png"), "horses/horse01-0.png", "horses", 0, "horses/horse01")

    features = tf.train.Example.FromString(build_example(candidate, horse_png)).features.feature

    assert set(features) == set(constants.RAW_FEATURE_KEYS)
    assert features[constants.IMAGE_BYTES_KEY].bytes_list.value == [horse_png]
    assert features[constants.LABEL_KEY].int64_list.value == [0]
    assert features[constants.CLASS_NAME_KEY].bytes_list.value == [b"horses"]
    assert features[constants.FILE_PATH_KEY].bytes_list.value == [b"horses/horse01-0.png"]
    assert features[constants.GROUP_KEY].bytes_list.value == [b"horses/horse01"]
    assert features[constants.SPAN_KEY].bytes_list.value == [b""]  # a plain data dir: no span


def test_example_carries_its_span(tmp_path, horse_png):
    candidate = ImageCandidate(str(tmp_path / "h.png"), "span-2/horses/horse01-0.png", "horses", 0, "horses/horse01",
                               span="span-2")

    features = tf.train.Example.FromString(build_example(candidate, horse_png)).features.feature

    assert features[constants.SPAN_KEY].bytes_list.value == [b"span-2"]
    assert features[constants.GROUP_KEY].bytes_list.value == [b"horses/horse01"]  # the group knows no span


def test_the_same_image_gives_the_same_example_bytes_every_time(tmp_path, horse_png):
    candidate = ImageCandidate(str(tmp_path / "h.png"), "horses/horse01-0.png", "horses", 0, "horses/horse01")

    # The C++ protobuf writes a map in an order of its own, which changed from call to call.
    assert len({build_example(candidate, horse_png) for _ in range(50)}) == 1
