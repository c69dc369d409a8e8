"""Installs the pipeline (pipeline/, components/) and the `transfer-pipeline` command.

Exact versions of everything live in requirements.lock; install with
`pip install -c requirements.lock .` (the Makefile does).
"""
from setuptools import find_packages, setup

setup(
    name="transfer-pipeline",
    version="0.1.0",
    description="TFX pipeline: image folders to a served InceptionV3 transfer-learning classifier",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "components", "components.*"]),
    package_data={"": ["*.pbtxt"], "pipeline.report": ["templates/*.j2"]},
    install_requires=[
        "tfx==1.16.0",
        "tf-keras>=2.16,<2.17",
        "dill",  # imported by tensorflow-transform 1.16; recent apache-beam no longer pulls it in
        "pyyaml",
        "pillow",
        "psutil",  # stops the Beam worker processes of an interrupted run
        "jinja2",  # the run report's page
    ],
    extras_require={"test": ["pytest", "lxml"]},
    entry_points={"console_scripts": ["transfer-pipeline=pipeline.cli.main:console_main"]},
)
