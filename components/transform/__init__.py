"""The Transform: preprocessing_fn (decode, RGB, resize, scale) and the executor that writes plain TFRecords."""
