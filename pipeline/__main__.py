"""`python -m pipeline ...` is the same as the `transfer-pipeline` console script."""
import sys

from pipeline.cli import main

sys.exit(main())
