"""``Trainer.steps``: the training loop as a generator, one step per ``next``.

Driven step by step it gives the record ``run`` gives; it stops within a step; closing it
early still releases the recorder's hooks and the loader; time spent suspended between two
steps is not counted as training time.
"""
import threading
import types

import pytest
import torch

from explorer.spec import BlockKind, HeadSpec, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import EpochMetrics, GradColumn, RunFinished, StepMetrics, TrainControl, TrainSettings
from explorer.train.datasets import load_dataset
from explorer.train.trainer import Trainer, drive

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_spec():
    return NetworkSpec(name="tiny", input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1), uniform_stage(BlockKind.BASIC, 1, 16, 2)),
                       head=HeadSpec(num_classes=4))


def settings(**kw):
    base = dict(train_size=160, test_size=32, batch_size=32, lr=0.05, metrics_every=3, epochs=2, augment=True)
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", train_size=160, test_size=32, image_size=(16, 16))


def without_timing(events):
    """The events with their measured times blanked (everything else must be identical)."""
    out = []
    for e in events:
        if isinstance(e, StepMetrics):
            out.append(("step", e.steps.tolist(), e.loss.tolist(), e.lr.tolist(), e.total_steps, e.epoch))
        elif isinstance(e, EpochMetrics):
            out.append(("epoch", e.epoch, e.step, e.train_loss, e.train_error, e.test_loss, e.test_error, e.lr))
        elif isinstance(e, GradColumn):
            out.append(("grad", e.step, e.norms.tolist(), e.residual.tolist()))
        else:
            out.append(e)
    return out


def test_driven_step_by_step_it_gives_what_run_gives(shapes):
    whole_events, events = [], []
    whole = Trainer(tiny_spec(), settings(grad_every=2), data=shapes).run(whole_events.append)

    trainer = Trainer(tiny_spec(), settings(grad_every=2), data=shapes)
    gen = trainer.steps(events.append)
    yielded = []
    while True:
        try:
            yielded.append(next(gen))
        except StopIteration as end:
            record = end.value
            break
        assert trainer.step == yielded[-1]  # the step is done when it comes back
        assert not any(isinstance(e, RunFinished) for e in events)

    assert yielded == list(range(1, trainer.total_steps + 1)) == list(range(1, 11))  # 5 steps an epoch, 2 epochs
    assert record is trainer.record and record.status == whole.status == "finished"
    assert record.message == whole.message and record.steps == whole.steps
    assert record.losses == whole.losses and record.lrs == whole.lrs
    assert [(e.epoch, e.train_loss, e.test_error) for e in record.epochs] == \
        [(e.epoch, e.train_loss, e.test_error) for e in whole.epochs]
    assert len(record.grad_columns) == len(whole.grad_columns) == 5
    assert all(torch.equal(record.model_state[k], whole.model_state[k]) for k in whole.model_state)
    assert without_timing(events) == without_timing(whole_events)
    assert isinstance(events[-1], RunFinished) and events[-1].step == 10


def test_each_step_ends_with_its_metrics_read_and_epoch_end(shapes):
    events = []
    trainer = Trainer(tiny_spec(), settings(), data=shapes)
    gen = trainer.steps(events.append)
    for _ in range(5):  # the first epoch: 5 steps
        next(gen)
    assert isinstance(events[-1], EpochMetrics) and events[-1].epoch == 1  # evaluated before handing back
    assert [s for e in events if isinstance(e, StepMetrics) for s in e.steps.tolist()] == [1, 2, 3, 4, 5]
    gen.close()


def test_a_stop_between_steps_ends_the_run_stopped_at_that_step(shapes):
    control = TrainControl()
    events = []
    trainer = Trainer(tiny_spec(), settings(), control=control, data=shapes)
    gen = trainer.steps(events.append)
    assert [next(gen) for _ in range(3)] == [1, 2, 3]
    control.stop()
    with pytest.raises(StopIteration) as end:
        next(gen)
    record = end.value.value
    assert record.status == "stopped" and record.message == "stopped at step 3 of 10"
    assert trainer.step == 3 and record.steps == [1, 2, 3]
    assert isinstance(events[-1], RunFinished) and events[-1].status == "stopped" and events[-1].step == 3
    assert record.model_state  # a stopped run keeps its weights


def test_calls_queued_between_steps_run_at_the_next_step(shapes):
    control = TrainControl()
    trainer = Trainer(tiny_spec(), settings(), control=control, data=shapes)
    gen = trainer.steps()
    next(gen)
    seen = []
    control.call_between_steps(lambda model: seen.append(trainer.step))
    assert seen == []  # nothing runs while the generator is suspended
    next(gen)
    assert seen == [1]  # ran before step 2
    drive(gen)


def test_closing_it_early_releases_the_recorder_and_the_loader(shapes):
    events = []
    trainer = Trainer(tiny_spec(), settings(grad_every=1), data=shapes)
    gen = trainer.steps(events.append)
    next(gen)
    next(gen)
    closed = []
    trainer.source.close = lambda: closed.append(True)  # an in-memory source has nothing to close; watch the call
    assert trainer.recorder._handles
    gen.close()
    assert closed == [True] and trainer.recorder._handles == []
    assert not any(isinstance(e, RunFinished) for e in events)  # closed, not finished
    assert trainer.record.status != "stopped" and trainer.step == 2


def test_time_suspended_between_steps_is_not_training_time(shapes, monkeypatch):
    import explorer.train.trainer as trainer_module

    clock = {"offset": 0.0}
    real = trainer_module.time.perf_counter
    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(perf_counter=lambda: real() + clock["offset"]))
    events = []
    trainer = Trainer(tiny_spec(), settings(), data=shapes)
    gen = trainer.steps(events.append)
    while True:
        clock["offset"] += 1000.0  # a thousand seconds pass while the generator waits
        try:
            next(gen)
        except StopIteration:
            break
    epochs = [e for e in events if isinstance(e, EpochMetrics)]
    assert len(epochs) == 2 and all(e.seconds < 100 for e in epochs)
    assert all(e.images_per_s > 32 / 100 for e in events if isinstance(e, StepMetrics))


def test_stop_from_a_signal_handler_cannot_deadlock_the_loop_it_interrupts():
    # The CLI's Ctrl+C handler calls stop() on the training thread itself, between any two
    # bytecodes of the loop, including while the loop is inside one of the control's events.
    # Simulate the worst moment: the thread holds the pause event's lock when stop() runs.
    control = TrainControl()
    done = threading.Event()

    def interrupted_inside_the_loop():
        with control._running._cond:  # what Event.wait/set hold for a moment
            control.stop()
        done.set()

    worker = threading.Thread(target=interrupted_inside_the_loop, daemon=True)
    worker.start()
    assert done.wait(10), "stop() blocked on a lock its own thread held"
    assert control.stopped and control.checkpoint(model=None) is False


def test_stop_still_wakes_a_paused_loop():
    control = TrainControl()
    control.pause()
    result = []
    worker = threading.Thread(target=lambda: result.append(control.checkpoint(model=None)), daemon=True)
    worker.start()
    worker.join(0.3)
    assert worker.is_alive()  # paused: waiting
    control.stop()
    worker.join(10)
    assert result == [False]
