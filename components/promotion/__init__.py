"""The promotion gate: baseline lookup, evaluation config, safe pushes to the serving dir."""
