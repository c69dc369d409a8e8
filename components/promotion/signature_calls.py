"""TFMA's call of a serving signature, by the name of its one input instead of by position.

TFMA feeds a signature that parses tf.Examples the batch of serialized examples as its one positional
argument (tensorflow_model_analysis/utils/model_util.py, ModelSignaturesDoFn._batch_reducible_process:
`signature(tf.constant(inputs, dtype=tf.string))`). A signature loaded from a SavedModel takes keyword
arguments only, so TensorFlow first tries to bind the positional call, fails, writes the whole batch
into the error it then drops (numpy's repr of every serialized image: 0.2 s per 64 horse-or-human
examples), and only then runs the flat signature (concrete_function.py: _call_impl). In one profiled
local run that was 0.5 s of the Evaluator's 3.2 s of signature calls.

`install()` wraps TFMA's get_callable so that such a signature comes back behind a call that passes the
positional batch by its input's name: the same function, the same outputs. Every other callable, and
every call with keyword arguments, is left as it was.
"""
from __future__ import annotations

from typing import Any, Optional

from tensorflow_model_analysis.utils import model_util


class NamedInputCall:
    """`signature` (one keyword-only input, `name`) called with that input as its one positional argument
    as well; every attribute is the signature's own."""

    def __init__(self, signature: Any, name: str):
        self._signature = signature
        self._name = name

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            return self._signature(**{self._name: args[0]})
        return self._signature(*args, **kwargs)

    def __getattr__(self, attribute: str):
        return getattr(self._signature, attribute)


def single_keyword_input(function: Any) -> Optional[str]:
    """The name of `function`'s one input when it takes exactly one, by keyword only (a signature loaded
    from a SavedModel); None otherwise."""
    structured = getattr(function, "structured_input_signature", None)
    if not isinstance(structured, tuple) or len(structured) != 2:
        return None
    positional, keywords = structured
    if positional or not isinstance(keywords, dict) or len(keywords) != 1:
        return None
    return next(iter(keywords))


def _get_callable(model, signature_name=None, required=True):
    function = _tfma_get_callable(model, signature_name, required)
    name = single_keyword_input(function)
    return NamedInputCall(function, name) if name is not None else function


_tfma_get_callable = model_util.get_callable


def install() -> None:
    """Puts the wrapped get_callable in TFMA's place for this process (idempotent); the Evaluator's
    executor calls it (evaluator_executor.py)."""
    model_util.get_callable = _get_callable
