"""The serving dir as a store of model versions: scan, lock, publish, roll back. The gate (components/promotion/) and the CLI use it."""
