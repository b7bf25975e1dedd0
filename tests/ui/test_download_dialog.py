"""Download… in the app: the dialog against the local file server (tests/conftest.py), and the
choosers that open it (training settings, Start from weights, the experiment pages)."""
import dataclasses
import hashlib
import os

import pytest

from explorer import downloads
from explorer.downloads import catalog
from explorer.ui.download_dialog import DownloadDialog, progress_text

BODY = os.urandom(400_000)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "downloads"
    monkeypatch.setenv(downloads.ENV_DIR, str(path))
    monkeypatch.delenv(downloads.ENV_MIRROR, raising=False)
    return path


def _serve_weights(server, monkeypatch, name="resnet18", body=BODY):
    real = catalog.BY_NAME[name]
    part = dataclasses.replace(real.parts[0], url=server.base + real.parts[0].filename, size=len(body),
                               sha256=hashlib.sha256(body).hexdigest())
    server.files[part.filename] = body
    monkeypatch.setitem(catalog.BY_NAME, name, dataclasses.replace(real, parts=(part,)))
    return part


def test_progress_words_follow_the_numbers():
    assert progress_text(12_300_000, 102_500_000, 4_100_000) == "12.3 of 102.5 MB · 4.1 MB/s · 22 s left"
    assert progress_text(0, 341_553_947, 2_000_000) == "0.0 of 341.6 MB · 2.0 MB/s · 2 min 51 s left"
    assert progress_text(5_000_000, None, None) == "5.0 MB"


def test_download_shows_rate_and_time_left_stops_and_continues(qtbot, file_server, folder, monkeypatch):
    part = _serve_weights(file_server, monkeypatch)
    file_server.mode[part.filename] = "slow"
    dialog = DownloadDialog("weights", "resnet18")
    qtbot.addWidget(dialog)
    fetched = []
    dialog.fetched.connect(fetched.append)
    assert "verified with SHA-256" in dialog.about.text()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "MB/s" in dialog.status.text() and "left" in dialog.status.text(), timeout=10_000)
    assert dialog.status.text().startswith("resnet18-f37072fd.pth: ")
    dialog.stop_button.click()
    qtbot.waitUntil(lambda: not dialog.task.is_running(), timeout=10_000)
    assert dialog.status.text().startswith("Stopped after ") and "of 0.4 MB" in dialog.status.text()
    assert dialog.download_button.text() == "Continue" and not fetched
    assert (folder / "files" / (part.filename + ".part")).is_file()
    file_server.mode.clear()
    dialog.download_button.click()
    qtbot.waitUntil(lambda: fetched == ["resnet18"], timeout=10_000)
    assert file_server.ranges and dialog.status.text().startswith("Verified with SHA-256")
    assert downloads.local_path(catalog.BY_NAME["resnet18"]).read_bytes() == BODY
    assert dialog.download_button.text() == "Use" and not dialog.file_button.isEnabled()  # here now


def test_a_server_error_is_one_line_with_what_to_do(qtbot, file_server, folder, monkeypatch):
    part = _serve_weights(file_server, monkeypatch)
    file_server.mode[part.filename] = "error"
    dialog = DownloadDialog("weights", "resnet18")
    qtbot.addWidget(dialog)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=10_000)
    text = dialog.error.text()
    assert text.startswith("the server answered 503") and part.url in text and "press From file… with it" in text
    assert "\n" not in text and dialog.download_button.isEnabled()


def test_from_file_in_the_dialog(qtbot, file_server, folder, monkeypatch, tmp_path):
    _serve_weights(file_server, monkeypatch)
    (tmp_path / "copy.pth").write_bytes(BODY)
    dialog = DownloadDialog("weights", "resnet18", choose_files=lambda parent: [str(tmp_path / "copy.pth")])
    qtbot.addWidget(dialog)
    fetched = []
    dialog.fetched.connect(fetched.append)
    dialog.file_button.click()
    qtbot.waitUntil(lambda: fetched == ["resnet18"], timeout=10_000)
    assert not file_server.ranges and downloads.is_ready(catalog.BY_NAME["resnet18"])


def test_training_settings_list_a_fetched_dataset_and_start_from_fetched_weights(qtbot, file_server, folder,
                                                                                monkeypatch):
    from explorer.ui.training.settings_form import TrainingSettingsForm

    _serve_weights(file_server, monkeypatch)
    form = TrainingSettingsForm()
    qtbot.addWidget(form)
    form.download_weights.click()
    dialog = form.download_weights.dialog
    assert dialog.choice.currentData() == "resnet18"  # the first weights entry; none chosen yet
    dialog.download_button.click()
    qtbot.waitUntil(lambda: form.init_weights.text() == "resnet18", timeout=10_000)
    assert form.problem() is None and form.settings().init_weights == "resnet18"
    dialog.close()
    # a dataset fetched earlier (here: put in place by adopt) is listed by name
    mnist = catalog.BY_NAME["mnist"]
    import gzip
    import struct
    files = {}
    for p in mnist.parts:
        images = "images" in p.filename
        raw = struct.pack(">HBBI", 0, 8, 3 if images else 1, 2) + (struct.pack(">II", 28, 28) if images else b"")
        raw += bytes(2 * 28 * 28 if images else [3, 7])
        files[p.filename] = gzip.compress(raw, mtime=0)
    monkeypatch.setitem(catalog.BY_NAME, "mnist", dataclasses.replace(mnist, parts=tuple(
        dataclasses.replace(p, size=len(files[p.filename]), sha256=hashlib.sha256(files[p.filename]).hexdigest())
        for p in mnist.parts)))
    for name, data in files.items():
        (folder / name).write_bytes(data)
    downloads.adopt(catalog.BY_NAME["mnist"], [str(folder / n) for n in files])
    form2 = TrainingSettingsForm()
    qtbot.addWidget(form2)
    index = form2.dataset.findText("mnist (downloaded)")
    assert index >= 0
    form2.dataset.setCurrentIndex(index)
    assert form2.settings().dataset == "mnist" and form2.problem() is None
    from explorer.train.datasets import load_dataset
    assert len(load_dataset(form2.settings().dataset).y_train) == 2


def test_experiment_dataset_chooser_offers_download(qtbot, folder):
    from explorer.ui.experiments.forms import DatasetChooser

    chooser = DatasetChooser()
    qtbot.addWidget(chooser)
    chooser.set_name("cifar10")  # a name not fetched yet: shown as such, refused by check()
    assert chooser.kind.currentText() == "cifar10 (not downloaded)" and chooser.name() == "cifar10"
    with pytest.raises(Exception, match="cifar10 is not downloaded yet"):
        chooser.check()
    chooser.download.click()
    assert chooser.download.dialog.choice.currentData() == "cifar10"
    chooser.download.dialog.close()


def test_drop_a_block_with_fetched_weights_and_imagenette_reports_both_top1s(qtbot, folder, tmp_path, monkeypatch):
    """The page's Download buttons on entries already here: Use fills in the weights name, its
    network and the test data; the measurement reports top-1 over 1000 classes and among the classes."""
    import io
    import tarfile

    import numpy as np
    import torch
    from PIL import Image

    from explorer.nn import build
    from explorer.spec import preset
    from explorer.ui.experiments.dropblock_page import DropBlockPage

    weights = tmp_path / "resnet18-f37072fd.pth"
    torch.save(build(preset("resnet18"), seed=0).state_dict(), weights)
    archive = tmp_path / "imagenette2-320.tgz"
    rng = np.random.default_rng(1)
    with tarfile.open(archive, "w:gz") as tar:
        for split in ("train", "val"):
            for wnid in ("n01440764", "n03888605"):
                data = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).save(data, format="PNG")
                info = tarfile.TarInfo(f"imagenette2-320/{split}/{wnid}/{wnid}.png")
                info.size = len(data.getvalue())
                tar.addfile(info, io.BytesIO(data.getvalue()))
    for name, path in (("resnet18", weights), ("imagenette", archive)):
        real = catalog.BY_NAME[name]
        body = path.read_bytes()
        entry = dataclasses.replace(real, parts=(dataclasses.replace(
            real.parts[0], size=len(body), sha256=hashlib.sha256(body).hexdigest(), md5=None),))
        monkeypatch.setitem(catalog.BY_NAME, name, entry)
        downloads.adopt(entry, [str(path)])

    page = DropBlockPage()
    qtbot.addWidget(page)
    page.download_weights.click()
    page.download_weights.dialog.choice.setCurrentIndex(page.download_weights.dialog.choice.findData("resnet18"))
    assert page.download_weights.dialog.download_button.text() == "Use"
    page.download_weights.dialog.download_button.click()
    page.download_data.click()
    assert page.download_data.dialog.choice.currentData() == "imagenette"
    page.download_data.dialog.download_button.click()
    assert (page.resnet_file.text(), page.network.currentData(), page.dataset.text()) == \
        ("resnet18", "resnet18", "imagenette")
    page.blocks.setText("4.1")
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
    assert done.args[0] is not None, page.status.text()
    result = page.results[0]
    assert result.images == 2 and result.subset_size == 2
    assert (f"resnet18 with every block: top-1 {100 * result.baseline:.1f}% over all its classes, "
            f"{100 * result.baseline_subset:.1f}% among the 2 the images come from.") in page.status.text()


def test_fetched_vgg_weights_become_the_plain_twin_on_the_drop_a_block_page(qtbot, folder, tmp_path, monkeypatch):
    from explorer.ui.experiments.dropblock_page import DropBlockPage

    stand_in = tmp_path / "vgg16-397923af.pth"
    stand_in.write_bytes(BODY)  # only its hash is checked here; measuring is the VGG tests' business
    real = catalog.BY_NAME["vgg16"]
    entry = dataclasses.replace(real, parts=(dataclasses.replace(
        real.parts[0], size=len(BODY), sha256=hashlib.sha256(BODY).hexdigest()),))
    monkeypatch.setitem(catalog.BY_NAME, "vgg16", entry)
    downloads.adopt(entry, [str(stand_in)])
    page = DropBlockPage()
    qtbot.addWidget(page)
    page.download_weights.click()
    dialog = page.download_weights.dialog
    dialog.choice.setCurrentIndex(dialog.choice.findData("vgg16"))
    dialog.download_button.click()  # "Use"
    assert (page.plain_file.text(), page.twin_network.currentData()) == ("vgg16", "vgg16")
    assert page.resnet_file.text() == "" and page.from_files.isChecked()
