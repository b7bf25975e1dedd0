"""Gradient-flow views: the depth profile, the heatmap and the panel that holds them."""
from .panel import GradflowPanel

__all__ = ["GradflowPanel"]
