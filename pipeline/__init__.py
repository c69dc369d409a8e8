"""The DAG, how it runs (local Beam, Kubeflow), the CLI and the one config object."""
