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
    return tf_keras.__version__
