"""The depth sweep's results, kept per settings in the user's cache folder.

One JSON file per settings in the ``depth-sweep`` folder of the user's cache folder
(``train/cache.py``: ``~/.cache/resnet-explorer/`` on Linux), named by a hash of the settings. A
finished sweep replaces what was there; a stopped one is kept only where no finished
sweep of the same settings exists, so stopping a re-run never loses a whole sweep.
A file that cannot be read is treated as absent: the cache never stops the page opening.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..spec.atomic import atomic_write_text
from .depth_sweep import SweepResult, SweepSettings

FOLDER = "depth-sweep"


def cache_dir() -> Path:
    from ..train.cache import cache_dir as app_cache_dir

    return app_cache_dir(FOLDER)


# Settings added after sweeps were cached, with the value every earlier sweep used: left out of
# the key at that value, so a sweep measured before they existed is still found.
_KEYED_ONLY_WHEN_CHANGED = {"optimizer": "sgd", "warmup_epochs": 0.0}


def settings_key(settings: SweepSettings) -> str:
    """The same key for the same settings, whatever order they were given in."""
    d = settings.to_dict()
    for name, old in _KEYED_ONLY_WHEN_CHANGED.items():
        if d.get(name) == old:
            del d[name]
    text = json.dumps(d, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def path_for(settings: SweepSettings) -> Path:
    return cache_dir() / f"{settings_key(settings)}.json"


def _read(path: Path) -> SweepResult | None:
    try:
        with open(path, encoding="utf-8") as f:
            return SweepResult.from_dict(json.load(f))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(settings: SweepSettings) -> SweepResult | None:
    """The cached sweep of exactly these settings, or None."""
    result = _read(path_for(settings))
    return result if result is not None and result.settings == settings else None


def latest() -> SweepResult | None:
    """The most recently measured sweep of any settings, or None."""
    folder = cache_dir()
    if not folder.is_dir():
        return None
    found = [r for r in (_read(p) for p in folder.glob("*.json")) if r is not None and r.arms]
    return max(found, key=lambda r: r.measured_at, default=None)


def save(result: SweepResult) -> Path | None:
    """Keep ``result`` for its settings; None when it was not kept (nothing trained, a finished sweep of the
    same settings outranks a stopped one, or the folder cannot be written: the sweep itself is not lost)."""
    if result.epoch == 0:
        return None
    path = path_for(result.settings)
    if result.status != "finished":
        old = _read(path)
        if old is not None and old.status == "finished":
            return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(result.to_dict()))  # unique temporary name, synced, renamed
    except OSError:
        return None
    return path
