"""The whole pipeline, top to bottom: read this file and you know the DAG.

create_pipeline() takes every path and knob from the one PipelineConfig;
runners (local Beam, Kubeflow) only resolve configuration and call it.
"""
from __future__ import annotations

import os
from typing import List

from tfx import v1 as tfx
from tfx.proto import example_gen_pb2

from components import constants
from components.code_fingerprint import code_fingerprint
from components.data_gate import DataValidationGate
from components.ingestion.component import image_folder_example_gen
from components.ingestion.settings import IngestionSettings
from pipeline.config import PipelineConfig

COMPONENTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "components")
TRANSFORM_MODULE = os.path.join(COMPONENTS_DIR, "transform", "preprocessing.py")


def _example_gen(config: PipelineConfig):
    if config.input_format == "tfrecord":
        # Ready tf.Examples with the project's features; split on the subject key.
        eval_buckets = max(1, round(10 * config.eval_fraction))
        output = example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(name=constants.TRAIN_SPLIT, hash_buckets=10 - eval_buckets),
                    example_gen_pb2.SplitConfig.Split(name=constants.EVAL_SPLIT, hash_buckets=eval_buckets),
                ],
                partition_feature_name=constants.GROUP_KEY,
            )
        )
        return tfx.components.ImportExampleGen(input_base=config.data_dir, output_config=output)
    settings = IngestionSettings(
        group_pattern=config.group_pattern,
        eval_fraction=config.eval_fraction,
        split_seed=config.split_seed,
        max_image_pixels=config.max_image_pixels,
    )
    return image_folder_example_gen(config.data_dir, settings)


def data_components(config: PipelineConfig) -> List:
    """Ingestion, statistics, validation against the curated schema, Transform."""
    example_gen = _example_gen(config)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_importer = tfx.components.ImportSchemaGen(schema_file=config.schema_path)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_importer.outputs["schema"]
    )
    data_gate = DataValidationGate(
        schema=schema_importer.outputs["schema"], anomalies=example_validator.outputs["anomalies"]
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=data_gate.outputs["validated_schema"],
        module_file=TRANSFORM_MODULE,
        custom_config={"code_fingerprint": code_fingerprint()},
    )
    return [example_gen, statistics_gen, schema_importer, example_validator, data_gate, transform]


def create_pipeline(config: PipelineConfig, metadata_connection_config=None) -> tfx.dsl.Pipeline:
    components = data_components(config)
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=components,
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_args),
    )
