"""The one source of truth for facts shared by every step.

Ingestion, Transform, Trainer, serving signatures, the schema checks and the
tests all import these names; change a feature name or the image size here
and only here.
"""

# Raw features written by the image-folder ExampleGen.
IMAGE_BYTES_KEY = "image_raw"  # the original encoded file (JPEG/PNG/GIF/BMP)
LABEL_KEY = "label"  # integer class id, index into the sorted class names
CLASS_NAME_KEY = "class_name"  # the class folder name
FILE_PATH_KEY = "file_path"  # path relative to the data directory
GROUP_KEY = "group"  # subject key the train/eval split is made on
SPAN_KEY = "span"  # the span folder the image came from (span-3, 2024-06-01); "" in a plain data dir

RAW_FEATURE_KEYS = (IMAGE_BYTES_KEY, LABEL_KEY, CLASS_NAME_KEY, FILE_PATH_KEY, GROUP_KEY, SPAN_KEY)

# Features produced by Transform and consumed by the Trainer.
TRANSFORMED_IMAGE_KEY = "image"
TRANSFORMED_LABEL_KEY = "label"

# InceptionV3 input: square RGB images scaled to [-1, 1] (what its ImageNet weights expect), 150x150
# unless the config's image_size says otherwise (the Transform resizes to it; the Trainer builds its
# model for the size the Transform graph makes). InceptionV3 takes 75 px a side at the least.
IMAGE_HEIGHT = 150
IMAGE_WIDTH = 150
IMAGE_CHANNELS = 3
MIN_IMAGE_SIZE = 75
MAX_IMAGE_SIZE = 512

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")

TRAIN_SPLIT = "train"
EVAL_SPLIT = "eval"
# The optional golden set (setting golden_dir): a fixed labelled set, never trained on, judged every run.
GOLDEN_SPLIT = "golden"

# Name of the JSON file, inside the ExampleGen output artifact, that records
# class names (id -> name), counts and rejected files.
INGESTION_REPORT_FILE = "ingestion_report.json"
REJECTED_FILES_CSV = "rejected_files.csv"
# The Examples artifact's custom property listing the window of spans read, oldest first (absent for a
# plain data dir): the Pusher records it as the spans a model was trained on.
SPAN_WINDOW_PROPERTY = "span_window"
