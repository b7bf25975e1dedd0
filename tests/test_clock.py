"""Durations as the training panel, the experiment page and the command line print them."""
import pytest

from explorer.train.clock import clock


@pytest.mark.parametrize("seconds, text", [
    (0, "0:00"), (0.4, "0:00"), (59.6, "1:00"), (61, "1:01"), (599, "9:59"),
    (3599.4, "59:59"), (3600, "1:00:00"), (3725, "1:02:05"), (36_000, "10:00:00"),
    (None, "–"), (float("nan"), "–"), (float("inf"), "–"), (-1, "–"),
])
def test_clock(seconds, text):
    assert clock(seconds) == text


def test_the_command_line_names_unknown_in_ascii():
    assert clock(float("nan"), unknown="--:--") == "--:--"
    assert clock(65, unknown="--:--") == "1:05"
