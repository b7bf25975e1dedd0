"""The paper's warm-up (He et al. 2015, ResNet-110): a tenth of the learning rate until the
training error falls below a bar, then the full rate; refused beside one-cycle."""
import pytest

from explorer.train.api import TrainingError, TrainSettings
from explorer.train.datasets import load_dataset
from explorer.train.trainer import Trainer

from test_trainer import tiny_spec  # noqa: E402  (tests/ is on sys.path)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", train_size=320, test_size=64)


def run(shapes, until: float):
    settings = TrainSettings(train_size=320, test_size=64, batch_size=32, lr=0.05, metrics_every=5, epochs=1,
                             schedule="constant", augment=False, warmup_until=until)
    trainer = Trainer(tiny_spec(), settings, data=shapes)
    record = trainer.run(lambda e: None)
    return trainer, record


def test_the_rate_is_a_tenth_until_the_error_falls_below_the_bar_then_full(shapes):
    trainer, record = run(shapes, until=0.99)  # any learning at all ends it at the first look (step 5)
    assert record.lrs[:5] == pytest.approx([0.005] * 5)
    assert trainer.warm.ended_at == 5 and record.lrs[6:] == pytest.approx([0.05] * (len(record.lrs) - 6))
    assert any("warm-up at a tenth of the learning rate ended after step 5" in n for n in record.notes)


def test_a_bar_never_reached_keeps_the_tenth_for_the_whole_run(shapes):
    trainer, record = run(shapes, until=1e-9)
    assert trainer.warm.active and record.lrs == pytest.approx([0.005] * len(record.lrs))


def test_no_warm_up_by_default(shapes):
    trainer, record = run(shapes, until=0.0)
    assert record.lrs == pytest.approx([0.05] * len(record.lrs)) and trainer.warm.ended_at is None


def test_one_cycle_with_an_error_warm_up_is_refused(shapes):
    settings = TrainSettings(schedule="onecycle", warmup_until=0.8, train_size=64, test_size=32)
    with pytest.raises(TrainingError, match="one-cycle"):
        Trainer(tiny_spec(), settings, data=shapes).run(lambda e: None)


def test_every_command_help_prints(capsys):
    """A help text with a bare '%' crashes argparse: every command's --help prints."""
    from explorer.cli import main as cli_main
    for argv in (["train"], ["experiment", "prepost"], ["experiment", "identity"], ["experiment", "degradation"]):
        with pytest.raises(SystemExit) as done:
            cli_main(argv + ["--help"])
        assert done.value.code == 0
        assert "usage:" in capsys.readouterr().out
