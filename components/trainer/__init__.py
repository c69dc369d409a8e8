"""The Trainer's run_fn (trainer_module.py): TFX's Trainer calls it by import path, in-process or in a pod."""
