"""The torch training layer: datasets, the trainer loop, checkpoints, DDP (no Qt)."""
