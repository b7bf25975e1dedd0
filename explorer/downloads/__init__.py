"""Datasets and pretrained weights fetched by name (``python main.py get NAME``; no Qt, no torch).

``catalog`` is the table (official locations, sizes, hashes and where they were found),
``store`` says where fetched files live and whether an entry is here, ``transfer`` moves
the bytes (resuming, stoppable between chunks) and ``get`` verifies, unpacks and adopts.
"""
from .catalog import BY_NAME, DATASETS, ENTRIES, WEIGHTS, Entry, Part, entry
from .get import HashMismatch, adopt, fetch, part_url, size_text, verify
from .store import (ENV_DIR, ENV_MIRROR, downloads_dir, is_ready, local_path, not_here_message, ready_names,
                    resolve_weights)
from .transfer import DownloadError, DownloadStopped

__all__ = ["BY_NAME", "DATASETS", "ENTRIES", "ENV_DIR", "ENV_MIRROR", "WEIGHTS", "DownloadError", "DownloadStopped",
           "Entry", "HashMismatch", "Part", "adopt", "downloads_dir", "entry", "fetch", "is_ready", "local_path",
           "not_here_message", "part_url", "ready_names", "resolve_weights", "size_text", "verify"]
