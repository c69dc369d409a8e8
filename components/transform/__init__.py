"""The Transform: preprocessing_fn (decode, RGB, resize, scale), whose graph the Trainer and serving apply."""
