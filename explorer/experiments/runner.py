"""Train several networks side by side, taking turns one step at a time.

An experiment compares "arms" (plain-20, plain-56, ResNet-20, ResNet-56, ...). Each arm
is an ordinary ``Trainer`` on its own thread, but the arms take turns: an arm holds
the turn for one step (plus any metrics read or test evaluation that follows it) and
passes it on at its next ``TrainControl.checkpoint``. So

- the curves grow together: every arm is at the same step at any moment, whatever
  its depth, and the epoch points of all arms appear at the same time;
- only one arm computes at a time, so the arms do not fight over the CPU's cores
  (four trainers at once on a two-core laptop run slower than one after another);
- stopping is one flag per arm: a waiting arm sees it at once, the arm holding the
  turn sees it after its step, so everything ends within one step of the deepest net.

``ArmRunner`` is Qt-free: the CLI calls ``run`` (blocking) and the GUI calls ``start``
and polls ``done``. Events reach ``on_event(arm_index, event)`` on the arm's thread.
"""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from ..train.api import RunRecord, TrainControl, TrainingError
from .jobs import BackgroundJob

WAIT_SLICE_S = 0.05  # how often a waiting arm looks at its stop flag


class TurnTaking:
    """Round-robin turns among the arms still running."""

    def __init__(self, count: int):
        self._cond = threading.Condition()
        self._queue = list(range(count))  # arms still in the rotation, in turn order
        self._turn = 0  # index into _queue of the arm whose turn it is

    def wait(self, arm: int, stopped: Callable[[], bool]) -> bool:
        """Block until it is ``arm``'s turn; False when ``stopped()`` became true first."""
        with self._cond:
            while not stopped():
                if self._queue and self._queue[self._turn] == arm:
                    return True
                self._cond.wait(WAIT_SLICE_S)
            return False

    def pass_on(self, arm: int) -> None:
        """``arm`` has done its step: the next arm in the rotation goes."""
        with self._cond:
            if self._queue and self._queue[self._turn] == arm:
                self._turn = (self._turn + 1) % len(self._queue)
                self._cond.notify_all()

    def leave(self, arm: int) -> None:
        """``arm`` has ended (finished, stopped or failed): take it out of the rotation."""
        with self._cond:
            if arm not in self._queue:
                return
            i = self._queue.index(arm)
            self._queue.pop(i)
            if i < self._turn:
                self._turn -= 1
            if self._turn >= len(self._queue):
                self._turn = 0
            self._cond.notify_all()


class ArmControl(TrainControl):
    """A trainer's control that also waits for the arm's turn before every step."""

    def __init__(self, turns: TurnTaking, arm: int):
        super().__init__()
        self._turns = turns
        self._arm = arm
        self._holding = False

    def checkpoint(self, model) -> bool:
        if self._holding:
            self._turns.pass_on(self._arm)
            self._holding = False
        if not self._turns.wait(self._arm, lambda: self.stopped):
            return False
        self._holding = True
        return super().checkpoint(model)


@dataclass
class ArmOutcome:
    """How one arm ended: its record (finished, stopped or failed), or why it never ran."""

    label: str
    record: RunRecord | None = None
    error: str = ""

    @property
    def status(self) -> str:
        if self.record is not None:
            return self.record.status
        return "failed" if self.error else "not started"


# make_trainer(arm_index, control, shared) -> Trainer; setup() -> shared (the data set, say)
TrainerFactory = Callable[[int, TrainControl, Any], Any]
EventSink = Callable[[int, Any], None]


class ArmRunner(BackgroundJob):
    """Runs the arms on a driver thread plus one thread per arm; see the module docstring."""

    def __init__(self, labels: list[str], make_trainer: TrainerFactory,
                 setup: Callable[[], Any] | None = None,
                 thread_init: Callable[[], None] | None = None):
        super().__init__()
        self.labels = list(labels)
        self._make_trainer = make_trainer
        self._setup = setup or (lambda: None)
        self._thread_init = thread_init or (lambda: None)
        self.turns = TurnTaking(len(self.labels))
        self.controls = [ArmControl(self.turns, i) for i in range(len(self.labels))]
        self.outcomes = [ArmOutcome(label) for label in self.labels]
        self.trainers: list = []
        self.error = ""  # set when the experiment could not start at all

    # -- control --------------------------------------------------------------------
    def stop(self) -> None:
        """Ask every arm to stop; each ends after the step it is in (waiting arms at once)."""
        super().stop()
        for control in self.controls:
            control.stop()

    def run(self, on_event: EventSink | None = None) -> list[ArmOutcome]:
        """Start and wait (the CLI's way); Ctrl+C stops every arm after its step."""
        self.wait(on_event)
        return self.outcomes

    # -- threads ----------------------------------------------------------------------
    def _work(self, sink: EventSink) -> None:
        threads: list[threading.Thread] = []
        try:
            self._thread_init()
            shared = self._setup()
            for i in range(len(self.labels)):
                if self.stopped:
                    return
                trainer = self._make_trainer(i, self.controls[i], shared)
                trainer.prepare()  # bad settings or data end here, before any arm trains
                self.trainers.append(trainer)
            for i, trainer in enumerate(self.trainers):
                t = threading.Thread(target=self._run_arm, args=(i, trainer, sink),
                                     name=f"experiment arm {self.labels[i]}", daemon=False)
                threads.append(t)
                t.start()
        except (TrainingError, ValueError) as exc:  # SpecError is a ValueError; both name the problem
            self.error = str(exc)
        except Exception as exc:  # a bug: say so, keep the caller alive
            traceback.print_exc()
            self.error = f"the experiment could not start: {type(exc).__name__}: {exc}"
        finally:
            for t in threads:
                t.join()

    def _run_arm(self, i: int, trainer, sink: EventSink) -> None:
        try:
            self._thread_init()
            record = trainer.run(lambda event: sink(i, event))
            self.outcomes[i] = ArmOutcome(self.labels[i], record=record)
        except (TrainingError, ValueError) as exc:
            self.outcomes[i] = ArmOutcome(self.labels[i], error=str(exc))
        except Exception as exc:
            traceback.print_exc()
            self.outcomes[i] = ArmOutcome(self.labels[i], error=f"{type(exc).__name__}: {exc}")
        finally:
            self.turns.leave(i)
