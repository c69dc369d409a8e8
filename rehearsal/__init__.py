"""The Kubeflow rehearsal: a compiled spec run here as Kubeflow Pipelines' backend runs it, each task in a
podman container of the project's image. A tool of the checkout (make kubeflow-rehearsal, the tests), not
shipped: setup.py installs pipeline/ and components/ only, and nothing there imports this package."""
