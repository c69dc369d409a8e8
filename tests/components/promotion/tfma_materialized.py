"""TFMA's evaluation of tf.Examples that carry each model's probabilities: no model needed, every outcome set.

TFMA's own stages, as its default_extractors chains them for materialized predictions (its
run_model_analysis refuses a baseline without model files), then its evaluator and writers.
"""
import apache_beam as beam
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import metrics_plots_and_validations_evaluator
from tensorflow_model_analysis.extractors import (example_weights_extractor, features_extractor, labels_extractor,
                                                  materialized_predictions_extractor, slice_key_extractor,
                                                  unbatch_extractor)
from tfx_bsl.tfxio import tf_example_record


def evaluate_materialized(data: str, config: tfma.EvalConfig, output: str, random_seed_for_testing=None) -> str:
    """TFMA's output folder for the examples of `data` judged by `config` (its model specs name the
    prediction features); the seed fixes the jackknife's partitions."""
    extractors = [
        features_extractor.FeaturesExtractor(eval_config=config),
        labels_extractor.LabelsExtractor(eval_config=config),
        example_weights_extractor.ExampleWeightsExtractor(eval_config=config),
        materialized_predictions_extractor.MaterializedPredictionsExtractor(eval_config=config),
        unbatch_extractor.UnbatchExtractor(),
        slice_key_extractor.SliceKeyExtractor(eval_config=config),
    ]
    evaluators = [metrics_plots_and_validations_evaluator.MetricsPlotsAndValidationsEvaluator(
        eval_config=config, random_seed_for_testing=random_seed_for_testing)]
    source = tf_example_record.TFExampleRecord(file_pattern=data, raw_record_column_name=tfma.ARROW_INPUT_COLUMN)
    with beam.Pipeline() as pipeline:
        _ = (
            pipeline
            | source.BeamSource()
            | tfma.BatchedInputsToExtracts()
            | tfma.ExtractAndEvaluate(extractors=extractors, evaluators=evaluators)
            | tfma.WriteResults(writers=tfma.default_writers(output, eval_config=config))
        )
    return output
