"""The one place that decides which Keras the project runs on: Keras 2 (tf-keras)."""
import os


class KerasVersionError(RuntimeError):
    pass


def ensure_legacy_keras() -> str:
    """Sets TF_USE_LEGACY_KERAS=1 and checks that tf.keras really is Keras 2.

    Exporting the variable before Python starts (Makefile, .ci/run, the
    container image) is the reliable way; setting it here covers the CLI and
    module files as long as nothing touched tf.keras first.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf  # noqa: E402  (after the variable is set)
    import tf_keras  # makes the legacy package the one tf.keras loads

    resolved = tf.keras.layers.Layer.__module__
    if not resolved.startswith("tf_keras."):
        raise KerasVersionError(
            f"tf.keras resolves to {resolved.split('.')[0]} (Keras 3), but this pipeline needs Keras 2 (tf-keras): something imported "
            "tf.keras before TF_USE_LEGACY_KERAS=1 was set. Export TF_USE_LEGACY_KERAS=1 before starting Python."
        )
    keep_autograph_out_of_tf_keras()
    return tf_keras.__version__


def keep_autograph_out_of_tf_keras() -> bool:
    """Gives Keras 2's package the AutoGraph rule TensorFlow gives Keras: never convert its code.

    TensorFlow's AutoGraph leaves the `keras` package's own code alone (written to run as plain
    Python while tracing), but its rules predate Keras 2's move to the `tf_keras` package. Without
    this rule, every tf_keras function a traced function calls (train_step, each layer's call) is
    parsed and rewritten from its source: on InceptionV3 that took the first training step from
    4.4 s to 32.8 s, and the first evaluation and the export pay it again. Returns whether the rule
    was added (False: already there).
    """
    from tensorflow.python.autograph.core import config, config_lib

    if any(isinstance(rule, config_lib.DoNotConvert) and rule.matches("tf_keras") for rule in config.CONVERSION_RULES):
        return False
    config.CONVERSION_RULES = (*config.CONVERSION_RULES, config_lib.DoNotConvert("tf_keras"))
    return True
