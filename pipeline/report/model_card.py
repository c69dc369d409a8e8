"""The model card: what the model is, what it was trained and measured on, what it is for and what it is not for.

Every statement is drawn from the run's own artifacts (Trainer settings,
ingestion report, evaluation); nothing is written in by hand per run.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from components.promotion import noise_gate
from components.promotion.noise_gate import wilson_interval

_WEIGHTS = {
    "pretrained": "Google's ImageNet weights (inception-2015-12-05 release), converted offline",
    "imagenet": "ImageNet weights from Keras's download",
    "none": "random initialisation (no pretrained weights)",
}


def _accuracy_interval(summary: dict, accuracy: Optional[float], evaluated: int) -> Optional[Tuple[float, float]]:
    """The gate's 95% interval of eval accuracy (noise_gate.py), else Wilson's on the counts."""
    overall = noise_gate.checks_by_slice(summary.get("gate_noise")).get("overall")
    if overall:
        return round(overall["lower"], 3), round(overall["upper"], 3)
    if accuracy is None or not evaluated:
        return None
    return tuple(round(bound, 3) for bound in wilson_interval(accuracy * evaluated, evaluated))


def _head(settings: dict, classes: List[str]) -> str:
    return (
        f"Flatten → Dense({settings.get('head_units', '?')}, relu) → Dropout({settings.get('dropout', '?')}) → "
        f"output over the {len(classes)} classes"
    )


def _training(settings: dict) -> str:
    text = (
        f"{settings.get('epochs', '?')} epoch(s) of the head on the frozen base, batch size {settings.get('batch_size', '?')}, "
        f"learning rate {settings.get('learning_rate', '?')}, augmentation {'on' if settings.get('augment', True) else 'off'}"
    )
    if settings.get("fine_tune_blocks"):
        text += (
            f"; then {settings.get('fine_tune_epochs')} epoch(s) fine-tuning the top {settings['fine_tune_blocks']} "
            f"block(s) below the cut at learning rate {settings.get('fine_tune_learning_rate')}"
        )
    return text


def build_model_card(summary: dict, settings: Optional[dict], ingestion: dict, accuracy: Optional[float]) -> dict:
    """Facts (label, text) and the intended use and limitations, from the summary, the Trainer's settings and
    the ingestion report (data folder, licence)."""
    settings = settings or {}
    licence = ingestion.get("licence")
    classes = summary.get("classes") or []
    examples = summary.get("examples") or {}
    train = sum((examples.get("train") or {}).values())
    evaluated = sum((examples.get("eval") or {}).values())
    weights = settings.get("weights", "pretrained")
    # TrainerSettings.image_size, written out: importing `components` here would load TensorFlow (6 s) into the
    # report; runs from before image_size was a setting trained at 150.
    size = settings.get("image_size", 150)
    data_dir = (summary.get("data") or {}).get("data_dir") or ingestion.get("data_dir") or "the data folder"
    facts = [
        ("Base model", f"InceptionV3 (Keras, {size}x{size}x3 input), {_WEIGHTS.get(weights, f'weights from {weights}')}"),
        ("Cut layer", f"{settings.get('cut_layer', 'mixed7')} (everything above it removed; the base is frozen)"),
        ("Head", _head(settings, classes)),
        ("Training", _training(settings) if settings else "settings not available"),
        ("Class names", ", ".join(f"{i}: {name}" for i, name in enumerate(classes)) or "not available"),
        ("Training data", f"{train} images for training and {evaluated} for evaluation from {data_dir}, "
                          "split by subject so that views of one subject never straddle the split"),
        ("Data licence", licence or "not stated in the data folder (add a README or LICENSE naming it)"),
        ("Model", summary.get("model") or "not trained in this run"),
    ]
    interval = _accuracy_interval(summary, accuracy, evaluated)
    measured = (
        f"Eval accuracy {accuracy:.3f} on {evaluated} images (95% interval {interval[0]}–{interval[1]})"
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
