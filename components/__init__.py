"""What each pipeline step does: ingestion, preprocessing, model, weights, evaluation.

Importing this package pins Keras 2 (tf-keras) as `tf.keras` before anything
else can touch it: TFX's Transform and Evaluator need Keras 2, and TF 2.16
fixes which Keras `tf.keras` means the first time it is used.
"""
from components.keras_env import ensure_legacy_keras

ensure_legacy_keras()
