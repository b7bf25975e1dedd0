"""Datasets as uint8 tensors in memory (no Qt).

``base`` holds what every set is made of (``ImageData``, ``DatasetError`` and the
helpers); ``procedural`` makes the sets that need no files, ``files`` reads the ones on
disk, and ``names`` resolves a dataset name to one of them. Import from this package.
"""
from .base import DatasetError, ImageData, as_uint8_images, channel_stats, conform_channels, subsample
from .names import BUILTIN, FORMATS, check_name, dataset_help, load_dataset, parse_name

__all__ = ["BUILTIN", "FORMATS", "DatasetError", "ImageData", "as_uint8_images", "channel_stats", "check_name",
           "conform_channels", "dataset_help", "load_dataset", "parse_name", "subsample"]
