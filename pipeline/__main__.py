"""`python -m pipeline ...` is the same as the `transfer-pipeline` console script."""
from pipeline.cli.main import console_main

console_main()
