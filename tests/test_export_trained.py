"""A trained network survives export: the reloaded files classify the test set exactly as it does.

The net is a tiny CIFAR-style ResNet trained for a few SGD steps on a fixed synthetic set
(four classes: a bright square in one of four quadrants, on noise). The accuracy of the
reloaded TorchScript, .pt2 and source files is measured in a fresh Python process that
cannot import explorer.
"""
import json
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from explorer.export import export_many
from explorer.export.verify import fresh_process_command, fresh_process_env
from explorer.nn import build
from explorer.spec import BlockKind, HeadSpec, NetworkSpec, ShortcutKind, StemKind, StemSpec, uniform_stage

TINY = NetworkSpec(
    name="tiny-cifar", input_shape=(3, 16, 16), stem=StemSpec(kind=StemKind.CIFAR, width=8),
    stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1, shortcut=ShortcutKind.ZERO_PAD),
            uniform_stage(BlockKind.BASIC, 2, 16, 2, shortcut=ShortcutKind.ZERO_PAD)),
    head=HeadSpec(num_classes=4))


def _quadrant_set(n, seed):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 4, (n,), generator=gen)
    images = 0.5 * torch.randn(n, 3, 16, 16, generator=gen)
    for i, label in enumerate(labels.tolist()):
        r, c = divmod(label, 2)
        images[i, :, r * 8 + 2:r * 8 + 6, c * 8 + 2:c * 8 + 6] += 2.0
    return images, labels


def _train(model, images, labels, steps=40, batch=32):
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(labels), (batch,), generator=gen)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


READER = textwrap.dedent("""
    import importlib.util, json, sys
    import torch
    data = torch.load(sys.argv[1], weights_only=True)
    x, y = data["images"], data["labels"]
    folder = sys.argv[2]
    spec = importlib.util.spec_from_file_location("tiny", folder + "/tiny.py")
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    models = {"torchscript": torch.jit.load(folder + "/tiny.pt"),
              "export": torch.export.load(folder + "/tiny.pt2").module(),
              "python": source.load(folder + "/tiny.pth")}
    out = {}
    with torch.no_grad():
        for name, model in models.items():
            pred = model(x).argmax(1)
            out[name] = {"accuracy": (pred == y).float().mean().item(), "predictions": pred.tolist()}
    print(json.dumps(out))
""")


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors; the verifier matches the thread count
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_a_trained_net_keeps_its_test_accuracy_after_export(tmp_path, one_thread):
    torch.manual_seed(0)
    train_x, train_y = _quadrant_set(512, seed=1)
    test_x, test_y = _quadrant_set(200, seed=2)
    model = _train(build(TINY, seed=0), train_x, train_y)
    with torch.no_grad():
        live_pred = model(test_x).argmax(1)
    live_acc = (live_pred == test_y).float().mean().item()
    assert live_acc > 0.6  # it did learn (chance is 0.25), so agreement below is not trivial

    results = export_many(TINY, [(f, tmp_path / "tiny") for f in ("torchscript", "export", "python")],
                          state_dict=model.state_dict(), weights_label="40 SGD steps")
    assert all(r.verified and r.max_diff < r.tolerance for r in results)

    torch.save({"images": test_x, "labels": test_y}, tmp_path / "test_set.pt")
    (tmp_path / "reader.py").write_text(READER)
    work = tmp_path / "empty"
    work.mkdir()
    proc = subprocess.run(fresh_process_command(tmp_path / "reader.py", str(tmp_path / "test_set.pt"),
                                                str(tmp_path)),
                          cwd=work, env=fresh_process_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    reloaded = json.loads(proc.stdout)
    for name, entry in reloaded.items():
        assert entry["accuracy"] == live_acc, name
        assert entry["predictions"] == live_pred.tolist(), name


def test_the_verifying_process_cannot_import_the_app(tmp_path):
    ROOT = str(Path(__file__).resolve().parent.parent)  # the repository

    from explorer.export.verify import WORKER

    script = tmp_path / "probe.py"
    # The worker's own start-up (which hides the app), then what an exported file might try.
    script.write_text(f"import runpy\nrunpy.run_path({str(WORKER)!r}, run_name='reload_worker')\n"
                      "import torch\nprint('torch ok')\nimport explorer\n")
    # Even run from the repository root, with PYTHONPATH pointing at it, and whether or not the app
    # is pip-installed (CI installs it), explorer stays out of reach.
    env = dict(fresh_process_env(), PYTHONPATH=ROOT)
    proc = subprocess.run(fresh_process_command(script), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert "torch ok" in proc.stdout
    assert proc.returncode != 0
    assert "No module named 'explorer'" in proc.stderr
