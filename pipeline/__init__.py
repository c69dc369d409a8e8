"""The DAG, how it runs (local Beam, Kubeflow), the CLI and the one config object.

Importing it changes nothing in the process; entry points call pipeline/process/startup.py's start().
"""
