"""The transfer-learning model: settings, building, input pipeline, serving signatures."""
