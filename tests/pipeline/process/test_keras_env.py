"""pipeline/process/keras_env.py: the project always runs on Keras 2, and says so when it cannot."""
import os
import subprocess
import sys


def python(code):
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True)


START = "from pipeline.process.startup import start; start([])"


def test_start_pins_tf_keras_even_without_the_variable():
    result = python(f"{START}; import tensorflow as tf; print(tf.keras.layers.Dense.__module__)")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith("tf_keras.")


def test_keras_3_resolved_first_is_refused_with_the_fix():
    result = python(f"import tensorflow as tf; tf.keras.layers; {START}")
    assert result.returncode != 0
    assert "KerasVersionError" in result.stderr and "TF_USE_LEGACY_KERAS=1" in result.stderr


def test_autograph_leaves_tf_keras_code_unconverted_as_tensorflow_does_for_keras():
    code = (
        f"{START}\nimport tf_keras\n"
        "from tensorflow.python.autograph.impl import conversion\n"
        "from pipeline.process.keras_env import keep_autograph_out_of_tf_keras\n"
        "print(conversion.is_allowlisted(tf_keras.layers.Dense.call), keep_autograph_out_of_tf_keras())\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "False"]  # left alone, and a second call adds nothing
