"""`python -m rehearsal`: the Kubeflow rehearsal's command line (rehearsal/cli.py).

It ends as the pipeline's own command does (pipeline/process/startup.py: exit_without_teardown): the exit
handlers run, then the process ends without the interpreter freeing TensorFlow's and TFX's modules one by
one (about 1.5 s after the summary, measured 2026-12-04).
"""
from pipeline.process.startup import exit_without_teardown
from rehearsal.cli import main

exit_without_teardown(main())
