"""Installs the pipeline (pipeline/, components/) and the `transfer-pipeline` command.

`make install` never lets pip resolve: it installs every package, transitive ones and the test tools
included, from requirements.lock (`pip install --no-deps -r requirements.lock`), then this project
editable and without its dependencies (`pip install --no-deps --no-build-isolation -e .`), then runs
`pip check`; kubernetes/Dockerfile repeats these steps. So install_requires below is what `pip check`
holds the lock to, not what gets installed; exact versions live in requirements.lock alone.
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
    extras_require={"test": ["pytest", "pytest-xdist", "lxml"]},  # also pinned in requirements.lock, which make install installs
    entry_points={"console_scripts": ["transfer-pipeline=pipeline.cli.main:console_main"]},
)
