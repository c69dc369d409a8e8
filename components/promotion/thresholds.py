"""The gate's bars, as settings: what the EvalConfig (eval_config.py) holds a candidate to."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class GateThresholds:
    """The gate's bars: each field is a setting of the pipeline's config, declared here once."""
    accuracy_threshold: float = 0.90  # lowest overall eval accuracy that can be blessed
    """Lowest eval accuracy that can be blessed."""
    max_accuracy_drop: float = 0.01  # tolerated overall drop vs the serving model (the bar)
    """Tolerated accuracy drop below the bar."""
    # The same two bars for each class's recall (the accuracy of its slice of the eval set).
    class_recall_threshold: float = 0.90
    """Lowest recall of any one class that can be blessed."""
    max_class_recall_drop: float = 0.01
    """Tolerated drop of a class's recall below the bar's."""
