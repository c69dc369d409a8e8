"""The local run: the Beam DAG runner and its mode, the run lock, interrupts, progress, and the run summary read from ML Metadata."""
