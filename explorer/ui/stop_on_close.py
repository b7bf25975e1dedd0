"""The question every panel with background work asks before its window closes."""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

STOP_WAIT_S = 2.0  # how long closing waits for the work to end after the user says yes


def stop_and_close(parent: QWidget, title: str, question: str, shutdown: Callable[[float], bool],
                   still_running: Callable[[], None]) -> bool:
    """Ask ``question`` (No by default); on yes, stop the work and wait at most two seconds.

    True when the window may close; False when the user said no, or when the work has
    not ended in time (``still_running`` then tells the user to try again in a moment).
    """
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, title, question, buttons.Yes | buttons.No, buttons.No)
    if answer != buttons.Yes:
        return False
    if shutdown(STOP_WAIT_S):
        return True
    still_running()
    return False
