"""Where fetched files live, and whether an entry is here.

The folder is ``RESNET_EXPLORER_DOWNLOADS`` when set, else the platform's own cache
folder (``platformdirs.user_cache_dir``: ``~/.cache/resnet-explorer/downloads`` on Linux,
``~/Library/Caches/resnet-explorer/downloads`` on macOS, ``%LOCALAPPDATA%\\resnet-explorer\\
Cache\\downloads`` on Windows); ``get --dir`` picks another for one command. In it:

- ``files/FILE``: a downloaded file, verified; ``files/FILE.part``: an unfinished
  download, continued by the next attempt (never read as a complete file);
- ``NAME/``: the entry ready to use (an archive unpacked, a weights file moved in),
  with ``NAME/.verified.json`` written last, so a folder without it is not used.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .catalog import BY_NAME, Entry

ENV_DIR = "RESNET_EXPLORER_DOWNLOADS"
ENV_MIRROR = "RESNET_EXPLORER_MIRROR"
MARKER = ".verified.json"


def downloads_dir(override: str | os.PathLike | None = None) -> Path:
    if override:
        return Path(os.path.expanduser(os.fspath(override)))
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        return Path(os.path.expanduser(env))
    import platformdirs

    return Path(platformdirs.user_cache_dir("resnet-explorer", appauthor=False)) / "downloads"


def entry_folder(entry: Entry, folder: str | os.PathLike | None = None) -> Path:
    return downloads_dir(folder) / entry.name


def is_ready(entry: Entry, folder: str | os.PathLike | None = None) -> bool:
    return (entry_folder(entry, folder) / MARKER).is_file()


def marker(entry: Entry, folder: str | os.PathLike | None = None) -> dict | None:
    try:
        with open(entry_folder(entry, folder) / MARKER, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def local_path(entry: Entry, folder: str | os.PathLike | None = None) -> Path | None:
    """What a reader opens, when the entry is here: a dataset's folder or the weights file."""
    if not is_ready(entry, folder):
        return None
    base = entry_folder(entry, folder)
    if entry.kind == "weights":
        return base / entry.parts[0].filename
    return base / entry.folder if entry.folder else base


def not_here_message(entry: Entry) -> str:
    from .transfer import size_text

    return (f"{entry.name} is not downloaded yet: run `python main.py get {entry.name}` (or Download… in the app), "
            f"{size_text(entry)} into {downloads_dir()}")


def resolve_weights(path: str | os.PathLike) -> str:
    """A weights file's path as given, or, when nothing is at that path and it is the name of
    downloadable weights (``resnet50``), the downloaded file. Raises ``FileNotFoundError`` with
    the words to show when the name is known but not downloaded yet."""
    text = os.fspath(path)
    if os.path.exists(text):
        return text
    found = BY_NAME.get(text.strip().lower())
    if found is None or found.kind != "weights":
        return text
    here = local_path(found)
    if here is None:
        raise FileNotFoundError(not_here_message(found))
    return os.fspath(here)


def ready_names(kind: str) -> list[str]:
    """The entries of ``kind`` ("dataset" or "weights") that are here, in table order."""
    return [e.name for e in BY_NAME.values() if e.kind == kind and is_ready(e)]
