"""Gradient-flow views: the depth profile, the heatmap and the panel that holds them."""
from .panel import GradientPanel

__all__ = ["GradientPanel"]
