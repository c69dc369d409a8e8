"""Kubeflow Pipelines as its backend runs a compiled spec: the rehearsal (run every task of the spec in the
project's image, on this machine) and the pieces of KFP's driver and launcher it reproduces."""
