"""Experiment pages: the classroom experiments of ``explorer.experiments``, presented live."""
from .menu import ExperimentsMenu, ExperimentWindow

__all__ = ["ExperimentsMenu", "ExperimentWindow"]
