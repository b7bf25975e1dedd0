"""The training worker: the real trainer on a background QThread, coalesced events, clean shutdown."""
from __future__ import annotations

import time

import pytest
import torch  # (torch before PySide6)
from torch import nn

from explorer.nn import build
from explorer.spec.model import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import EpochMetrics, RunFinished, StepMetrics, TrainSettings
from explorer.ui.training.worker import TrainingWorker, underlying_resnet


def tiny_spec() -> NetworkSpec:
    return NetworkSpec(name="tiny", stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1),
                               uniform_stage(BlockKind.BASIC, 1, 16, 2)))


def tiny_settings(**changes) -> TrainSettings:
    base = dict(dataset="shapes", train_size=256, test_size=64, batch_size=64, epochs=2, augment=False,
                metrics_every=1, device="cpu", lr=0.05)
    base.update(changes)
    return TrainSettings(**base)




@pytest.fixture
def worker(qtbot):
    w = TrainingWorker()
    yield w
    assert w.shutdown(5.0)


def test_a_short_run_delivers_every_step_in_few_batches(qtbot, worker):
    batches, times = [], []
    worker.eventsReady.connect(batches.append)
    worker.eventsReady.connect(lambda _events: times.append(time.monotonic()))
    started = time.monotonic()
    with qtbot.waitSignal(worker.runEnded, timeout=60_000) as ended:
        worker.start(tiny_spec(), tiny_settings(epochs=3))
    outcome = ended.args[0]
    assert outcome.error == "" and outcome.record.status == "finished"
    events = [e for batch in batches for e in batch]
    steps = [int(s) for e in events if isinstance(e, StepMetrics) for s in e.steps]
    assert steps == list(range(1, 13))  # 4 steps per epoch, none lost or repeated
    assert [e.epoch for e in events if isinstance(e, EpochMetrics)] == [1, 2, 3]
    assert isinstance(events[-1], RunFinished)
    # the GUI hears from the worker at most five times a second, however fast the steps
    # (plus the batch flushed when the thread ends)
    assert len(batches) <= (times[-1] - started) / 0.2 + 2, (len(batches), times[-1] - started)
    assert outcome.record.model_state is not None
    assert not worker.is_running()


def test_a_logging_sink_that_fails_is_dropped_and_still_closed(qtbot, worker, capsys):
    class FailingLog:
        calls, closed = 0, False

        def __call__(self, event):
            self.calls += 1
            raise OSError("No space left on device")

        def close(self):
            self.closed = True

    log = FailingLog()
    with qtbot.waitSignal(worker.runEnded, timeout=60_000) as ended:
        worker.start(tiny_spec(), tiny_settings(epochs=1), [log])
    assert ended.args[0].record.status == "finished"  # the run went on without its log
    assert log.calls == 1 and log.closed  # written to no more after it failed, and closed at the end
    assert capsys.readouterr().err.count("No space left on device") == 1


def test_stop_ends_a_long_run_within_a_step_and_the_thread_is_gone(qtbot, worker):
    seen = []
    worker.eventsReady.connect(seen.extend)
    worker.start(tiny_spec(), tiny_settings(epochs=500))
    qtbot.waitUntil(lambda: any(isinstance(e, StepMetrics) for e in seen), timeout=60_000)
    with qtbot.waitSignal(worker.runEnded, timeout=10_000) as ended:
        at_stop = worker.trainer.step
        worker.stop()
    record = ended.args[0].record
    assert record.status == "stopped"
    assert record.steps[-1] <= at_stop + 1
    assert not worker.is_running()


def test_shutdown_while_paused_ends_the_run_without_another_step(qtbot, worker):
    seen = []
    worker.eventsReady.connect(seen.extend)
    worker.start(tiny_spec(), tiny_settings(epochs=500))
    qtbot.waitUntil(lambda: any(isinstance(e, StepMetrics) for e in seen), timeout=60_000)
    worker.pause()
    assert worker.paused
    trainer = worker.trainer
    at_pause = trainer.step
    assert worker.shutdown(120.0)  # a pause does not keep the stop waiting (a hang would time out)
    assert trainer.step <= at_pause + 1  # the step under way when paused, if any; no other
    assert not worker.is_running()
    assert worker.shutdown(2.0)  # nothing left to stop


def test_a_dataset_that_cannot_load_ends_with_the_trainers_message(qtbot, worker, tmp_path):
    missing = tmp_path / "no-such-folder"
    with qtbot.waitSignal(worker.runEnded, timeout=30_000) as ended:
        worker.start(tiny_spec(), tiny_settings(dataset=f"cifar10:{missing}"))
    outcome = ended.args[0]
    assert outcome.record is None and outcome.status == "failed"
    assert str(missing) in outcome.error


def test_commands_reach_the_resnet_through_compile_and_ddp_wrappers():
    model = build(tiny_spec())

    class Compiled(nn.Module):  # what torch.compile's wrapper looks like from outside
        def __init__(self, inner):
            super().__init__()
            self._orig_mod = inner

    assert underlying_resnet(model) is model
    # DataParallel stands in for DistributedDataParallel (same wrapper family, no process group)
    assert underlying_resnet(Compiled(nn.DataParallel(model))) is model
    with pytest.raises(TypeError):
        underlying_resnet(nn.Linear(2, 2))


def test_tensorboard_logging_is_greyed_out_with_the_reason_when_missing(qtbot, monkeypatch):
    from explorer.ui.training import settings_form

    monkeypatch.setattr(settings_form, "tensorboard_available", lambda: False)
    form = settings_form.TrainingSettingsForm()
    qtbot.addWidget(form)
    form.tensorboard.setChecked(True)
    assert not form.tensorboard.isEnabled() and not form.wants_tensorboard()
    assert "pip install tensorboard" in form.tensorboard.toolTip()


@pytest.mark.needs_extra("tensorboard")
def test_tensorboard_sink_writes_the_runs_scalars(tmp_path):
    import numpy as np
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from explorer.train.api import GradColumn
    from explorer.train.tb_log import TensorBoardSink

    sink = TensorBoardSink(tmp_path, ["stage 1, block 1", "stage 2, block 1"])
    sink(StepMetrics(steps=np.array([1, 2]), loss=np.array([2.3, 2.2]), lr=np.array([0.1, 0.1]),
                     total_steps=4, epoch=1, images_per_s=100.0, eta_s=1.0))
    sink(EpochMetrics(epoch=1, step=2, train_loss=2.2, train_error=0.8, test_loss=2.1, test_error=0.7,
                      lr=0.1, images_per_s=100.0, seconds=1.0))
    sink(GradColumn(step=2, norms=np.array([0.5, 0.25])))
    sink.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [(e.step, round(e.value, 3)) for e in events.Scalars("train/loss")] == [(1, 2.3), (2, 2.2)]
    assert events.Scalars("test/error_per_epoch")[0].value == pytest.approx(0.7)
    assert events.Scalars("gradient_norm/stage 2, block 1")[0].value == pytest.approx(0.25)
