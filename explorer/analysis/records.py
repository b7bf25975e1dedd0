"""What the gradient recorder produces, as plain data (NumPy only, safe across threads).

It lives here, below the trainer, so that the recorder (``recorder.py``) and the
trainer's event types (``train/api.py``, which re-exports it) share it without the
analysis layer importing the training layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GradColumn:
    """Per-block input-gradient norms ``||dL/dx_l||`` at one training step, depth order,
    and each block's residual size ``||F(x)||/||s(x)||`` (mean over the batch; NaN for
    plain blocks and switched-off skips), when recorded."""

    step: int
    norms: np.ndarray  # float64, one per block
    residual: np.ndarray | None = None  # float64, one per block
