"""The DAG, how it runs (local Beam, Kubeflow), the CLI and the one config object."""
from pipeline.quiet import quiet_by_default

quiet_by_default()
