"""The run report: OUTPUT/report.html and, on Kubeflow, the same page as a visualisation of the run."""
