"""The training panel and its background worker (see ``panel.TrainingPanel``)."""
from .panel import TrainingPanel

__all__ = ["TrainingPanel"]
