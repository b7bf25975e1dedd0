"""ResNet Explorer: build residual networks visually, train them live, see why skips work."""

__version__ = "0.1.0"
