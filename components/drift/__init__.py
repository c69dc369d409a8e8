"""The drift gate's statistics: what a span of new images is compared with (the statistics of the data the
serving model was trained on) and the checks that say whether it drifted (class priors, content, format,
size). Pure numpy and scipy, apart from features.py, which runs the pipeline's frozen base."""
