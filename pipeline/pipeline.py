"""The whole pipeline, top to bottom: read this file and you know the DAG.

create_pipeline() takes every path and knob from the one PipelineConfig, handing
each component its settings group's share (Group.from_config); every node gets
its id from components/node_ids.py, which the Kubeflow compiler's tables share.
Runners (local Beam, Kubeflow) only resolve configuration and call it.
"""
from __future__ import annotations

import dataclasses
import json
import os
# TFX's own modules, not `tfx.v1`: that namespace also imports every extension (Vertex AI's client
# alone took 3.1 s of each run's start) and this pipeline uses none of them. Each from its own module,
# not the `tfx.components` package, whose `__init__` imports every standard component
# (pipeline/process/lean_imports.py).
from tfx.components.example_gen.import_example_gen.component import ImportExampleGen
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2, trainer_pb2, transform_pb2

from components import constants, node_ids
from components.code_fingerprint import code_fingerprint
from components.data_gate import DataValidationGate
from components.drift.component import DriftGate, drift_settings_json, feature_base
from components.drift.settings import DriftSettings
from components.ingestion.component import image_folder_example_gen
from components.ingestion.settings import IngestionSettings
from components.model.settings import TrainerSettings
from components.promotion.baseline import ServingBaseline
from components.promotion.eval_config import build_eval_config
from components.promotion.evaluator_executor import GatedEvaluator
from components.promotion.pusher_executor import SafePusher
from components.promotion.settings import PromotionSettings
from components.promotion.thresholds import GateThresholds
from components.serving.versions import serving_state
from components.statistics.executor import InProcessStatisticsGen
from components.trainer.warm_start_source import WarmStartSource
from components.transform.settings import TransformSettings
from pipeline.config import PipelineConfig
from pipeline.report.component import RunReport

# Transform and Trainer import their functions from the installed project by name, the same on a
# laptop, in a Beam worker and in the container image, instead of TFX packaging a module file's folder
# into a wheel and pip-installing it in every component (a wheel that in-place module files would make
# unimportable in a multi-process Beam worker: "No module named user_module_0"). The cache still sees
# every code change: each component's custom_config carries a fingerprint of the code it imports.
PREPROCESSING_FN = "components.transform.preprocessing.preprocessing_fn"
RUN_FN = "components.trainer.trainer_module.run_fn"


def _serving_state(serving_dir: str) -> str:
    # Only a local serving dir is looked at while building the pipeline; a
    # remote one (a cluster's) is read by ServingBaseline itself at run time.
    return serving_state(serving_dir) if "://" not in serving_dir and os.path.isdir(serving_dir) else ""


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
        return ImportExampleGen(input_base=config.data_dir, output_config=output).with_id(node_ids.IMPORT_EXAMPLE_GEN)
    return image_folder_example_gen(config.data_dir, IngestionSettings.from_config(config)).with_id(
        node_ids.IMAGE_FOLDER_EXAMPLE_GEN)


def promotion_settings(config: PipelineConfig) -> PromotionSettings:
    """Promotion's share of the config, with the serving dir resolved (its default is under the output dir)."""
    return dataclasses.replace(PromotionSettings.from_config(config), serving_dir=config.serving_path)


def create_pipeline(config: PipelineConfig, metadata_connection_config=None) -> tfx_pipeline.Pipeline:
    # Data: ingest, describe, hold against the curated schema, stop on anomalies.
    example_gen = _example_gen(config)
    schema_importer = ImportSchemaGen(schema_file=config.schema_path).with_id(node_ids.IMPORT_SCHEMA_GEN)
    # With the schema, TFDV reads the image bytes' image domain and skips ranking them (schema_contract.py).
    statistics_gen = InProcessStatisticsGen(examples=example_gen.outputs["examples"],
                                           schema=schema_importer.outputs["schema"]).with_id(node_ids.STATISTICS_GEN)
    example_validator = ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_importer.outputs["schema"]
    ).with_id(node_ids.EXAMPLE_VALIDATOR)
    data_gate = DataValidationGate(
        schema=schema_importer.outputs["schema"], anomalies=example_validator.outputs["anomalies"]
    ).with_id(node_ids.DATA_VALIDATION_GATE)
    # Drift: the newest span against the data the serving model was trained on (its drift_reference.json).
    # The Trainer waits on the gate as an upstream node, not through an artifact: the gate runs again
    # whenever the serving dir changes (never cached on Kubeflow), and an artifact of it would make the
    # Trainer's cache key change with it.
    drift = DriftSettings.from_config(config)
    drift_gate = DriftGate(
        examples=example_gen.outputs["examples"],
        serving_dir=promotion_settings(config).serving_dir,
        drift_settings=drift_settings_json(drift),
        feature_base=feature_base(TrainerSettings.from_config(config)),
        serving_state=_serving_state(promotion_settings(config).serving_dir),
        # A run parameter on Kubeflow (compiler.py), so acceptance is per run there.
        accepted_reason=drift.accepted_reason,
    ).with_id(node_ids.DRIFT_GATE) if drift.drift_gate else None
    if drift_gate:
        # Beside the data gate, not after it: on Kubeflow each is a pod on the way to the Trainer, which waits
        # for both (4 s of set-up saved from every run's critical path). After ExampleValidator, so that on a
        # span both refuse the data gate's stop comes first: its pod only reads the anomalies, the drift
        # gate's runs the base over the images (and locally the data gate runs on the main thread).
        drift_gate.add_upstream_node(example_validator)
    # The graph alone (materialize=False): with no analyzer and no statistics, TFX's Transform traces the
    # preprocessing_fn and writes its graph without a pass over the data (its in-place path), and the
    # Trainer applies the graph to the ingested examples as serving does (components/model/dataset.py).
    transform = Transform(
        examples=example_gen.outputs["examples"],
        schema=data_gate.outputs["validated_schema"],
        preprocessing_fn=PREPROCESSING_FN,
        materialize=False,
        splits_config=transform_pb2.SplitsConfig(analyze=[constants.TRAIN_SPLIT]),
        custom_config=dict(TransformSettings.from_config(config).to_dict(), code_fingerprint=code_fingerprint(PREPROCESSING_FN)),
        # Its pre- and post-transform statistics (TFDV over every float of every image) have no reader:
        # StatisticsGen already describes the raw data, and the schema holds the raw features.
        disable_statistics=True,
    ).with_id(node_ids.TRANSFORM)

    # Model: train, find the bar in the serving dir, evaluate against both bars, push if blessed
    # and the serving dir is still what the bar was taken from.
    training, promotion = TrainerSettings.from_config(config), promotion_settings(config)
    # Warm start: the Trainer's base model is the one serving now, looked up before training.
    warm_start_source = WarmStartSource(
        examples=example_gen.outputs["examples"],
        serving_dir=promotion.serving_dir,
        serving_state=_serving_state(promotion.serving_dir),
    ).with_id(node_ids.WARM_START_SOURCE) if training.warm_start else None
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=data_gate.outputs["validated_schema"],
        train_args=trainer_pb2.TrainArgs(splits=[constants.TRAIN_SPLIT]),
        eval_args=trainer_pb2.EvalArgs(splits=[constants.EVAL_SPLIT]),
        custom_config=dict(training.to_dict(), code_fingerprint=code_fingerprint(RUN_FN)),
        base_model=warm_start_source.outputs["model"] if warm_start_source else None,
    ).with_id(node_ids.TRAINER)
    if drift_gate:
        trainer.add_upstream_node(drift_gate)  # a span that drifted stops the run before the Trainer
    baseline = ServingBaseline(
        model=trainer.outputs["model"],
        schema=data_gate.outputs["validated_schema"],
        serving_dir=promotion.serving_dir,
        baseline_policy=promotion.baseline_policy,
        comparison_policy=promotion.comparison_policy,
        serving_state=_serving_state(promotion.serving_dir),
    ).with_id(node_ids.SERVING_BASELINE)
    evaluator = GatedEvaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["baseline_model"],
        eval_config=build_eval_config(GateThresholds.from_config(config)),
        example_splits=[constants.EVAL_SPLIT],
    ).with_id(node_ids.EVALUATOR)
    pusher = SafePusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        serving_baseline=baseline.outputs["baseline_model"],
        evaluation=evaluator.outputs["evaluation"],
        examples=example_gen.outputs["examples"],
        drift_reference=drift_gate.outputs["drift_reference"] if drift_gate else None,
        settings=promotion,
        provenance={"pipeline_name": config.pipeline_name, "data_dir": config.data_dir or "", "schema": config.schema_path or ""},
    ).with_id(node_ids.PUSHER)

    components = [
        example_gen, statistics_gen, schema_importer, example_validator, data_gate,
        *([drift_gate] if drift_gate else []), transform,
        *([warm_start_source] if warm_start_source else []), trainer, baseline, evaluator, pusher,
    ]
    if config.report_component:
        # The run report, as a page the Kubeflow Pipelines UI shows (pipeline/report/component.py).
        components.append(RunReport(
            examples=example_gen.outputs["examples"],
            anomalies=example_validator.outputs["anomalies"],
            model=trainer.outputs["model"],
            model_run=trainer.outputs["model_run"],
            baseline_model=baseline.outputs["baseline_model"],
            evaluation=evaluator.outputs["evaluation"],
            blessing=evaluator.outputs["blessing"],
            pushed_model=pusher.outputs["pushed_model"],
            trainer_settings=json.dumps(training.to_dict(), sort_keys=True),
            drift_report=drift_gate.outputs["drift_report"] if drift_gate else None,
        ).with_id(node_ids.RUN_REPORT))

    return tfx_pipeline.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=components,
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_args),
    )
