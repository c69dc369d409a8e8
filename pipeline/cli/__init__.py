"""The command line: `transfer-pipeline` and `python -m pipeline` (main.py), its Kubeflow (kubeflow.py) and serving (serving.py) commands."""
