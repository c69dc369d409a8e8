"""Each pipeline node's id, declared once: its name in ML Metadata, the run summary and the Kubeflow spec.

pipeline/pipeline.py gives every node its id from here (`.with_id`), and the Kubeflow compiler keys its
per-task tables (memory, caching, volume mounts) on the same names, so a renamed node keeps its pod's
memory request. Here in components/ because the components name themselves by them too (the serving
lock's holder), and nothing below the pipeline may import it.
"""
IMAGE_FOLDER_EXAMPLE_GEN = "ImageFolderExampleGen"
IMPORT_EXAMPLE_GEN = "ImportExampleGen"
STATISTICS_GEN = "StatisticsGen"
IMPORT_SCHEMA_GEN = "ImportSchemaGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
DATA_VALIDATION_GATE = "DataValidationGate"
DRIFT_GATE = "DriftGate"  # only with drift_gate on
TRANSFORM = "Transform"
WARM_START_SOURCE = "WarmStartSource"  # only with warm_start on
TRAINER = "Trainer"
SERVING_BASELINE = "ServingBaseline"
EVALUATOR = "Evaluator"
PUSHER = "Pusher"
RUN_REPORT = "RunReport"
