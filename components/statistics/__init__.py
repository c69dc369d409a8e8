"""StatisticsGen: TFX's, its statistics computed in this process when Beam would run here (executor.py)."""
