"""Test doubles for the widget tests."""

class FakeDialogs:
    """Answers the window's questions from a script and records what it was told."""

    def __init__(self):
        self.open_answer = None
        self.save_answer = None
        self.unsaved_answer = "discard"
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.unsaved_asked = 0
        self.restore_answer = "discard"
        self.restore_asked: list[str] = []

    def open_path(self, parent, directory):
        return self.open_answer

    def save_path(self, parent, suggested):
        return self.save_answer

    def image_path(self, parent, suggested):
        return self.save_answer

    def ask_unsaved(self, parent, name):
        self.unsaved_asked += 1
        return self.unsaved_answer

    def ask_restore(self, parent, what):
        self.restore_asked.append(what)
        return self.restore_answer

    def error(self, parent, title, text):
        self.errors.append((title, text))

    def info(self, parent, title, text):
        self.infos.append((title, text))
