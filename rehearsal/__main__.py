"""`python -m rehearsal`: the Kubeflow rehearsal's command line (rehearsal/cli.py)."""
import sys

from rehearsal.cli import main

sys.exit(main())
