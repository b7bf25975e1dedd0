"""The user's cache folder for what the app keeps between sessions (platformdirs decides where).

``~/.cache/resnet-explorer`` on Linux (``$XDG_CACHE_HOME`` when set), ``~/Library/Caches/
resnet-explorer`` on macOS, ``%LOCALAPPDATA%\\resnet-explorer\\Cache`` on Windows. What is
kept there can always be made again: the digits as an array file, the depth sweeps' results.
The downloads (``explorer/downloads``) live in a folder of their own under it.
"""
from __future__ import annotations

from pathlib import Path

APP = "resnet-explorer"


def cache_dir(*parts: str) -> Path:
    """The app's cache folder, or a folder inside it (not created here)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False), *parts)
