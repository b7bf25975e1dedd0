"""Hostile inputs to the newer readers (issue 21): streamed folders, ImageNet folders, text numbers.

Each test builds its input: broken images inside a folder streamed by DataLoader workers
(skipped and counted by default, the first one stops the run with ``--unreadable-images
stop``), a folder deleted under a running loader, symbolic links that loop or point
nowhere, a labels file that is not UTF-8, Unicode digits where numbers belong, a class
folder without images and a CIFAR meta file with a number where the names belong. Each
ends in one line naming the problem, or in a run that says what it skipped.
"""
import os
import pickle
import shutil
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli import main
from explorer.train.datasets import DatasetError, load_dataset
from explorer.train.datasets import streaming


def _png(path, colour=(200, 30, 30), size=(12, 12)):
    Image.new("RGB", size, colour).save(path)


def _bomb(path, side=9000):
    """A tiny PNG whose header claims side x side pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def _folder(root, per_class=6):
    for c, colour in (("cats", (220, 20, 20)), ("dogs", (20, 20, 220))):
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            _png(root / c / f"{i}.png", colour)
    return root


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(streaming, "MEMORY_BUDGET", 1000)  # every folder here is streamed


def _broken_folder(root):
    """Two classes of good images plus a corrupt JPEG, a 0-byte image and a decompression bomb."""
    _folder(root)
    (root / "cats" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a jpeg" * 20)
    (root / "dogs" / "empty.png").write_bytes(b"")
    _bomb(root / "cats" / "bomb.png")
    return root


# -- 1. errors inside DataLoader workers ---------------------------------------------------------

def test_a_streamed_run_skips_and_counts_unreadable_images(tmp_path, small_budget, tiny_net, capsys,
                                                           one_torch_thread):
    root = _broken_folder(tmp_path / "photos")
    # ImageNet statistics: no image is decoded before training, so the broken ones reach the workers
    code = main(["train", tiny_net, "--dataset", f"folder:{root}", "--epochs", "1", "--batch-size", "8",
                 "--device", "cpu", "--normalise", "imagenet", "--progress", "none",
                 "--checkpoint", str(tmp_path / "run.pt")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err and "streamed from disk" in out
    note = next(line for line in out.splitlines() if line.startswith("note: skipped "))
    # each is read once, in a training batch or in the test split (a fixed hold-out): all three are named
    assert note.startswith("note: skipped 3 unreadable images of folder:photos")
    assert "corrupt.jpg: " in note and "empty.png" in note and "bomb.png claims 9,000x9,000 pixels" in note
    saved = torch.load(tmp_path / "run.pt", weights_only=True)
    assert any("unreadable" in n for n in saved["notes"])  # in the run's notes, kept with the checkpoint


def test_the_stop_policy_ends_the_run_at_the_first_unreadable_image_in_one_line(tmp_path, small_budget, tiny_net,
                                                                                capsys, one_torch_thread):
    root = _folder(tmp_path / "photos")
    (root / "dogs" / "empty.png").write_bytes(b"")
    code = main(["train", tiny_net, "--dataset", f"folder:{root}", "--epochs", "1", "--device", "cpu",
                 "--normalise", "imagenet", "--progress", "none", "--unreadable-images", "stop"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert err.count("\n") == 1 and err.startswith("error: cannot read image ") and "empty.png" in err


def test_a_folder_deleted_under_a_running_loader_ends_the_run_in_one_line(tmp_path, small_budget, one_torch_thread):
    from explorer.spec import BlockKind, NetworkSpec, StemSpec, uniform_stage
    from explorer.train.api import TrainSettings
    from explorer.train.trainer import Trainer

    root = _folder(tmp_path / "photos")
    data = load_dataset(f"folder:{root}", image_size=(16, 16))
    shutil.rmtree(root)  # the disk went away after the file lists were made
    spec = NetworkSpec(name="tiny", input_shape=(3, 16, 16), stem=StemSpec(width=4),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 4, 1),))
    trainer = Trainer(spec, TrainSettings(epochs=1, batch_size=4, device="cpu", normalise="imagenet"), data=data)
    record = trainer.run()
    assert record.status == "failed"
    assert "could be read" in record.message and "is the folder still there?" in record.message
    assert "Traceback" not in record.message and "\n" not in record.message
    assert str(root) in record.message  # the first missing file is named


def test_a_worker_that_dies_is_one_line_naming_the_loader(tmp_path, small_budget, monkeypatch):
    from explorer.train.stream_loader import StreamSource

    root = _folder(tmp_path / "photos")
    data = load_dataset(f"folder:{root}", image_size=(16, 16))
    source = StreamSource(data, device=torch.device("cpu"), input_hw=(16, 16), batch_size=4, augment=False, seed=0,
                          normalisation=((0.5,) * 3, (0.25,) * 3), workers=1)

    def crash(self, key):
        os._exit(3)  # a worker killed mid-batch (out of memory, a signal)

    monkeypatch.setattr(streaming.FolderDataset, "__getitem__", crash)
    with pytest.raises(DatasetError, match="the image loader's worker processes failed: ") as info:
        source.batch(source.epoch_indices(0), 0)
    assert "\n" not in str(info.value)
    source.close()


# -- 2. walking folders ------------------------------------------------------------------------

@pytest.mark.parametrize("reader", ["folder", "imagenet-val"])
@pytest.mark.parametrize("link", ["class folder loop", "image loop", "dangling image"])
def test_symbolic_links_that_loop_or_point_nowhere_are_named(tmp_path, reader, link):
    root = tmp_path / "data"
    classes = ("n01440764", "n01443537") if reader == "imagenet-val" else ("cats", "dogs")
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(3):
            _png(root / c / f"{i}.png")
    if link == "class folder loop":
        bad = root / "n02123045"
        os.symlink(bad, bad)  # a folder entry that points to itself
    elif link == "image loop":
        bad = root / classes[0] / "self.png"
        os.symlink(bad, bad)
    else:
        bad = root / classes[1] / "moved.png"
        os.symlink(tmp_path / "elsewhere.png", bad)
    with pytest.raises(DatasetError) as info:
        load_dataset(f"{reader}:{root}")
    text = str(info.value)
    assert str(bad) in text and "\n" not in text
    assert ("points back to itself" in text) if "loop" in link else ("which does not exist" in text)


def test_landscape_from_dir_names_a_missing_folder_and_a_looping_checkpoint(tmp_path, capsys):
    os.symlink(tmp_path / "resnet20.pt", tmp_path / "resnet20.pt")
    for folder, expected in ((tmp_path / "nowhere", "nowhere: expected a folder written by experiment degradation"),
                             (tmp_path, "resnet20.pt cannot be followed: ")):
        assert main(["experiment", "landscape", "--from-dir", str(folder)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err


def test_a_link_to_a_parent_folder_does_not_make_the_walk_endless(tmp_path):
    root = _folder(tmp_path / "photos")
    os.symlink(root, root / "cats" / "up")  # inside a class folder: not an image, not walked
    data = load_dataset(f"folder:{root}")
    assert data.classes == ["cats", "dogs"] and len(data.y_train) + len(data.y_test) == 12


def test_an_unreadable_imagenet_folder_is_named(tmp_path, monkeypatch):
    for wnid in ("n01440764", "n01443537"):
        (tmp_path / wnid).mkdir()
        _png(tmp_path / wnid / "a.png")
    locked = str(tmp_path / "n01443537")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DatasetError, match=f"cannot read the folder {locked}: Permission denied"):
        load_dataset(f"imagenet-val:{tmp_path}")


def test_a_labels_file_that_is_not_utf8_names_the_line_and_byte(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png")
    (tmp_path / "labels.txt").write_bytes("a.png n01440764\n# café\n".encode("latin-1") + b"b.png 1\n")
    with pytest.raises(DatasetError, match=r"labels file .*labels.txt is not UTF-8 text: byte 0xe9 on line 2"):
        load_dataset(f"imagenet-val:{tmp_path}")
    (tmp_path / "labels.txt").write_bytes(b"\xef\xbb\xbfa.png n01440764\nb.png 1\n")  # UTF-8 with a BOM is fine
    assert load_dataset(f"imagenet-val:{tmp_path}").y_test.tolist() == [0, 1]


# -- 3. numbers in text: ASCII digits only ---------------------------------------------------------

@pytest.mark.parametrize("text, value", [("12", 12), (" 7 ", 7), ("0", 0), ("²", None), ("٣", None), ("1²", None),
                                         ("1e3", None), ("-1", None), ("", None), ("1_000", None), (None, None)])
def test_the_one_number_parser_reads_ascii_digits_only(text, value):
    from explorer.spec.params import whole_number

    assert whole_number(text) == value  # str.isdigit() is true for '²' and int('٣') is 3


def test_unicode_digits_in_a_labels_file_are_not_class_indices(tmp_path):
    _png(tmp_path / "a.png")
    (tmp_path / "labels.txt").write_text("a.png ²\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: '²' is not one of the 1000 ImageNet WordNet ids"):
        load_dataset(f"imagenet-val:{tmp_path}")
    (tmp_path / "labels.txt").write_text("a.png ٣\n", encoding="utf-8")  # int() would read this as 3
    with pytest.raises(DatasetError, match="'٣' is not one of the 1000"):
        load_dataset(f"imagenet-val:{tmp_path}")


@pytest.mark.parametrize("argv, expected", [
    (["experiment", "drop-block", "NET", "--checkpoint", "CKPT", "--blocks", "².1"], "'².1' is not STAGE.BLOCK"),
    (["experiment", "degradation", "--depths", "8,²0"], "depths: '²0' is not a whole number"),
    (["experiment", "depth-sweep", "--seeds", "0,¹"], "seeds: '¹' is not a whole number"),
    (["experiment", "degradation", "--image-size", "٣٢"], "--image-size: '٣٢' is not a number of pixels"),
    (["gradflow", "NET", "--skips", "¹.1"], "--skips: '¹.1' is not 'on', 'off'"),
], ids=["blocks", "depths", "seeds", "image size", "skips"])
def test_unicode_digits_on_the_command_line_are_refused_in_one_line(argv, expected, tiny_net, tmp_path, capsys):
    ckpt = tmp_path / "w.pt"
    if "CKPT" in argv:
        main(["train", tiny_net, "--steps", "1", "--train-size", "16", "--test-size", "8", "--progress", "none",
              "--device", "cpu", "--checkpoint", str(ckpt)])
        capsys.readouterr()
    argv = [tiny_net if a == "NET" else str(ckpt) if a == "CKPT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err


def test_a_weights_file_with_unicode_digit_keys_is_named_not_crashed(tmp_path, tiny_net):
    from explorer.cli.common import resolve_network
    from explorer.nn import build
    from explorer.nn.weights_file import WeightsError, check_state_dict

    model = build(resolve_network(tiny_net))
    state = {k.replace("layer1", "layer¹"): v for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError, match="w.pt has no 'layer1.0.conv1.weight'"):
        check_state_dict(model, state, "w.pt")


# -- 4. one image-opening routine -------------------------------------------------------------------

def test_imagenet_val_refuses_a_decompression_bomb_before_decoding(tmp_path):
    (tmp_path / "n01440764").mkdir()
    _png(tmp_path / "n01440764" / "a.png")
    _bomb(tmp_path / "n01440764" / "b.png", side=30000)
    with pytest.raises(DatasetError, match=r"b.png (claims 30,000x30,000 pixels|is refused)"):
        load_dataset(f"imagenet-val:{tmp_path}")


@pytest.mark.parametrize("reader", ["folder", "imagenet-val", "streamed"])
def test_every_reader_names_a_truncated_image(tmp_path, reader, monkeypatch):
    from explorer.train.datasets.streaming import decode

    root = tmp_path / "n01440764"
    root.mkdir()
    for i in range(2):
        _png(root / f"{i}.png")
    (tmp_path / "n01443537").mkdir()
    _png(tmp_path / "n01443537" / "x.png")
    full = (root / "0.png").read_bytes()
    (root / "0.png").write_bytes(full[:len(full) // 2])  # a download cut short
    with pytest.raises(DatasetError, match=r"cannot read image .*0.png: "):
        if reader == "streamed":
            decode(str(root / "0.png"), (8, 8), 3, None)
        else:
            load_dataset(f"{reader}:{tmp_path}")


# -- 12, 13. empty class folders, CIFAR meta ---------------------------------------------------------

@pytest.mark.parametrize("layout", ["one folder", "train and test"])
def test_a_class_folder_without_images_is_named(tmp_path, layout):
    root = tmp_path / "photos"
    base = root / "train" if layout == "train and test" else root
    _folder(base)
    (base / "birds").mkdir()
    (base / "birds" / "notes.txt").write_text("no pictures yet")
    if layout == "train and test":
        _folder(root / "test", per_class=2)
    with pytest.raises(DatasetError, match=r"the class folder 'birds' holds no images"):
        load_dataset(f"folder:{root}")


def test_a_cifar_meta_file_with_a_number_for_the_names_is_named(tmp_path):
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(tmp_path / name, "wb") as f:
            pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, f)
    with open(tmp_path / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": 10}, f)
    with pytest.raises(DatasetError, match=r"batches.meta: 'label_names' must be a list of class names, found int"):
        load_dataset(f"cifar10:{tmp_path}")
    with open(tmp_path / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [f"c{i}".encode() for i in range(10)]}, f)
    assert load_dataset(f"cifar10:{tmp_path}").classes[:2] == ["c0", "c1"]


# -- 9. every evaluator checks its data ----------------------------------------------------------------

@pytest.fixture
def shapes_checkpoint(tiny_net, tmp_path, capsys, one_torch_thread):
    """A tiny net trained one step on shapes (10 classes), as a checkpoint file."""
    path = tmp_path / "tiny.pt"
    assert main(["train", tiny_net, "--steps", "1", "--train-size", "32", "--test-size", "16", "--device", "cpu",
                 "--progress", "none", "--checkpoint", str(path)]) == 0
    capsys.readouterr()
    return str(path)


def _classes(root, n, per_class=2):
    for k in range(n):
        (root / f"c{k:02d}").mkdir(parents=True)
        for i in range(per_class):
            _png(root / f"c{k:02d}" / f"{i}.png", (20 * k, 40, 90))
    return root


def test_the_landscape_refuses_data_with_more_classes_than_the_head_and_data_without_training_images(
        shapes_checkpoint, tmp_path, capsys):
    many = _classes(tmp_path / "twelve", 12)
    (tmp_path / "val" / "n01440764").mkdir(parents=True)
    _png(tmp_path / "val" / "n01440764" / "a.png")
    for dataset, expected in ((f"folder:{many}", "folder:twelve has 12 classes but tiny's head has 10 outputs"),
                              (f"imagenet-val:{tmp_path / 'val'}", "imagenet-val:val has no training images")):
        code = main(["experiment", "landscape", shapes_checkpoint, "--dataset", dataset, "--points", "3",
                     "--coarse", "3"])
        out, err = capsys.readouterr()
        assert code == 2 and err.count("\n") == 1 and expected in err, err
        assert "loss on 0 training images" not in out


def test_evaluators_read_a_streamed_folder(shapes_checkpoint, tiny_net, tmp_path, capsys, small_budget):
    root = _classes(tmp_path / "ten", 10, per_class=3)
    code = main(["experiment", "landscape", shapes_checkpoint, "--dataset", f"folder:{root}", "--points", "3",
                 "--coarse", "3", "--images", "8", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "loss on 8 training images of folder:ten" in out
    code = main(["experiment", "drop-block", tiny_net, "--checkpoint", shapes_checkpoint,
                 "--dataset", f"folder:{root}", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0 and "test images of folder:ten" in out + err, err


# -- 10 (and issue 23, section 6). a checkpoint carries its network ----------------------------------------

def test_a_fine_tuned_head_and_a_trained_input_size_come_from_the_checkpoint(tiny_net, tmp_path, capsys,
                                                                           one_torch_thread):
    """train NET --init-weights W on a 2-class folder writes a 2-class head; export NET --checkpoint
    refused it. A net trained at 16x16 was refused by gradflow NET (32x32). Both now use the network
    the checkpoint carries, say so, and name a real difference of layers; the checkpoint alone works too."""
    import json

    from explorer.spec import BlockKind, NetworkSpec, StemSpec, save, uniform_stage

    first = tmp_path / "w.pt"
    assert main(["train", tiny_net, "--steps", "1", "--train-size", "32", "--test-size", "16", "--device", "cpu",
                 "--progress", "none", "--checkpoint", str(first)]) == 0
    photos = _folder(tmp_path / "photos", per_class=4)
    tuned = tmp_path / "ft.pt"
    assert main(["train", tiny_net, "--init-weights", str(first), "--dataset", f"folder:{photos}", "--steps", "1",
                 "--device", "cpu", "--progress", "none", "--checkpoint", str(tuned)]) == 0
    small = tmp_path / "small.pt"  # the same layers trained on 16x16 inputs
    spec16 = NetworkSpec(name="tiny", input_shape=(3, 16, 16), stem=StemSpec(width=8),
                         stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1), uniform_stage(BlockKind.BASIC, 1, 16, 2)))
    save(spec16, tmp_path / "tiny16.json")
    assert main(["train", str(tmp_path / "tiny16.json"), "--steps", "1", "--train-size", "32", "--test-size", "16",
                 "--device", "cpu", "--progress", "none", "--checkpoint", str(small)]) == 0
    capsys.readouterr()

    out_json = tmp_path / "net.json"
    assert main(["export", tiny_net, "--checkpoint", str(tuned), "-f", "json", "-o", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "note: ft.pt was trained as 'tiny' with a 2-class head ('tiny' has 10)" in out and "verified" in out
    assert json.loads(out_json.read_text())["head"]["num_classes"] == 2
    assert main(["export", str(small), "-f", "json", "-o", str(out_json)]) == 0  # the checkpoint alone
    assert json.loads(out_json.read_text())["input_shape"] == [3, 16, 16]
    capsys.readouterr()
    assert main(["gradflow", tiny_net, "--checkpoint", str(small)]) == 0
    out = capsys.readouterr().out
    assert "small.pt was trained as 'tiny' with 16x16 inputs ('tiny' takes 32x32)" in out
    assert main(["gradflow", str(tuned), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["weights"].startswith("checkpoint ")
    # a network whose layers really differ: the difference is named, in one line
    other = tmp_path / "other.json"
    save(NetworkSpec(name="other", stem=StemSpec(width=8), stages=(uniform_stage(BlockKind.BASIC, 2, 8, 1),
                                                                   uniform_stage(BlockKind.BASIC, 1, 16, 2))), other)
    for argv in (["export", str(other), "--checkpoint", str(tuned), "-f", "json", "-o", str(out_json)],
                 ["gradflow", str(other), "--checkpoint", str(small)],
                 ["experiment", "drop-block", str(other), "--checkpoint", str(small)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "'other' has 2-1 blocks per stage, the checkpoint's network 1-1" in err, err


@pytest.mark.parametrize("reader", ["cifar10", "mnist", "imagenet-val labels"])
def test_the_fixed_file_names_of_cifar_mnist_and_a_labels_file_are_followed_once(tmp_path, reader):
    """A file the reader expects by name that is a looping link, or a FIFO (reading it would block)."""
    name = {"cifar10": "data_batch_1", "mnist": "train-images-idx3-ubyte", "imagenet-val labels": "labels.txt"}
    bad = tmp_path / name[reader]
    os.symlink(bad, bad)
    kind = reader.split()[0]
    with pytest.raises(DatasetError, match=f"{bad} cannot be followed"):
        load_dataset(f"{kind}:{tmp_path}")
    if hasattr(os, "mkfifo"):
        bad.unlink()
        os.mkfifo(bad)
        with pytest.raises(DatasetError, match=f"{bad} is not a regular file"):
            load_dataset(f"{kind}:{tmp_path}")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_experiment_report_refuses_a_fifo_without_blocking(tmp_path, capsys):
    import threading

    fifo = tmp_path / "result.json"
    os.mkfifo(fifo)
    codes = []
    reader = threading.Thread(target=lambda: codes.append(main(["experiment", "report", str(fifo)])), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "experiment report blocked reading a FIFO"
    assert codes == [2] and "not a regular file" in capsys.readouterr().err


def test_the_skipped_files_note_carries_no_escape_sequence(tmp_path, small_budget, tiny_net, capsys, one_torch_thread):
    """A file name is the user's or a download's: listed in the note, it must not drive the terminal."""
    root = _folder(tmp_path / "photos", per_class=3)
    os.close(os.open(os.fsencode(root / "cats") + b"/\xff\x1b[31mred.png", os.O_CREAT | os.O_WRONLY))
    code = main(["train", tiny_net, "--dataset", f"folder:{root}", "--epochs", "1", "--device", "cpu",
                 "--normalise", "imagenet", "--progress", "none"])
    out, err = capsys.readouterr()
    assert code == 0, err
    note = next(line for line in out.splitlines() if line.startswith("note: skipped 1 unreadable image"))
    assert "\x1b" not in out and "red.png" in note and "\\x1b[31m" in note
