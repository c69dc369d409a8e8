"""What each pipeline step does: ingestion, preprocessing, model, weights, evaluation.

Importing it changes nothing in the process: the settings a run needs (Keras 2 as tf.keras, the
malloc arena cap, the skipped IRI grammar) are applied by pipeline/process/startup.py's start(), which
every entry point calls first.
"""
