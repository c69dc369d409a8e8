"""What a run leaves, as both runners read it: ML Metadata's executions and artifacts, KFP's wrapped values unwrapped, and the typed run record (run_summary.json)."""
