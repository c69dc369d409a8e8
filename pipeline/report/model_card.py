"""The model card: what the model is, what it was trained and measured on, what it is for and what it is not for.

Every statement is drawn from the run's own artifacts (Trainer settings,
ingestion report, evaluation); nothing is written in by hand per run.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from components import constants
from components.model.settings import TrainerSettings
from components.promotion import noise_gate
from components.promotion.noise_gate import wilson_interval
from pipeline.run_record.record import RunRecord, WarmStartRecord

_WEIGHTS = {
    "pretrained": "Google's ImageNet weights (inception-2015-12-05 release), converted offline",
    "imagenet": "ImageNet weights from Keras's download",
    "none": "random initialisation (no pretrained weights)",
}


def _accuracy_interval(record: RunRecord, evaluated: int) -> Optional[Tuple[float, float]]:
    """The gate's 95% interval of eval accuracy (noise_gate.py), else Wilson's on the counts."""
    overall = noise_gate.checks_by_slice(record.gate.noise).get("overall")
    if overall:
        return round(overall["lower"], 3), round(overall["upper"], 3)
    accuracy = record.model.accuracy
    if accuracy is None or not evaluated:
        return None
    return tuple(round(bound, 3) for bound in wilson_interval(accuracy * evaluated, evaluated))


def _head(settings: TrainerSettings, classes: List[str]) -> str:
    return (
        f"Flatten → Dense({settings.head_units}, relu) → Dropout({settings.dropout}) → "
        f"output over the {len(classes)} classes"
    )


def _training(settings: TrainerSettings) -> str:
    text = (
        f"{settings.epochs} epoch(s) of the head on the frozen base, batch size {settings.batch_size}, "
        f"learning rate {settings.learning_rate}, augmentation {'on' if settings.augment else 'off'}"
    )
    if settings.fine_tune_blocks:
        text += (
            f"; then {settings.fine_tune_epochs} epoch(s) fine-tuning the top {settings.fine_tune_blocks} "
            f"block(s) below the cut at learning rate {settings.fine_tune_learning_rate}"
        )
    return text


def _warm_start(warm_start: WarmStartRecord) -> str:
    if warm_start.from_version is not None:
        return f"the head started from serving version {warm_start.from_version}'s head"
    return f"none, the head started from scratch: {warm_start.why_not}"


def build_model_card(record: RunRecord, trainer_config: Optional[dict], ingestion: dict) -> dict:
    """Facts (label, text) and the intended use and limitations, from the run record, the Trainer's settings
    (its custom_config: a run from before a setting existed trained at that setting's default) and the
    ingestion report (data folder, licence)."""
    settings = TrainerSettings.from_dict(trainer_config or {})
    licence = ingestion.get("licence")
    classes = record.data.classes
    train, evaluated = record.data.images(constants.TRAIN_SPLIT), record.data.images(constants.EVAL_SPLIT)
    size = settings.image_size
    data_dir = record.data.source.get("data_dir") or ingestion.get("data_dir") or "the data folder"
    weights = _WEIGHTS.get(settings.weights, f"weights from {settings.weights}")
    facts = [
        ("Base model", f"InceptionV3 (Keras, {size}x{size}x3 input), {weights}"),
        ("Cut layer", f"{settings.cut_layer} (everything above it removed; the base is frozen)"),
        ("Head", _head(settings, classes) if trainer_config else "settings not available"),
        ("Training", _training(settings) if trainer_config else "settings not available"),
        *([("Warm start", _warm_start(record.warm_start))] if record.warm_start else []),
        ("Class names", ", ".join(f"{i}: {name}" for i, name in enumerate(classes)) or "not available"),
        ("Training data", f"{train} images for training and {evaluated} for evaluation from {data_dir}, "
                          "split by subject so that views of one subject never straddle the split"),
        ("Data licence", licence or "not stated in the data folder (add a README or LICENSE naming it)"),
        ("Model", record.model.uri or "not trained in this run"),
    ]
    interval = _accuracy_interval(record, evaluated)
    measured = (
        f"Eval accuracy {record.model.accuracy:.3f} on {evaluated} images (95% interval {interval[0]}–{interval[1]})"
        if interval else "Eval accuracy not available"
    )
    intended = [
        f"Sorting images into {', '.join(classes) or 'the trained classes'}, for images like the training data "
        f"(same source, framing and kind of picture).",
        f"Input: one encoded image (JPEG, PNG, GIF or BMP) per request; it is resized to {size}x{size} RGB.",
    ]
    limitations = [
        f"Every image is put into one of the {len(classes)} classes, also images that show none of them: there is no 'unknown'.",
        f"{measured}; the interval says how precise that figure is. Images from another source may fare worse.",
        f"Fine detail is lost at {size}x{size} (image_size in the config sets it).",
    ]
    if evaluated and evaluated < 200:
        limitations.append(f"The eval set is small ({evaluated} images): the measured accuracy is a rough estimate.")
    if licence:
        limitations.append(f"The training data's licence applies to what is derived from it: {licence}")
    return {"facts": facts, "intended_use": intended, "limitations": limitations}
