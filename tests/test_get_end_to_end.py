"""The lessons' exercise by names only: `get resnet50`, `get imagenette`, then
`experiment drop-block resnet50 --checkpoint resnet50 --dataset imagenette`.

The real files cannot be fetched here, so the local server (tests/test_downloads.py) serves
a ResNet-50 state_dict in torchvision's format (our preset's own weights, seeded) and an
imagenette2-320.tgz in Imagenette's layout (train/ and val/ folders named by WordNet id),
each entry carrying its file's hashes.
"""
import dataclasses
import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli import main
from explorer.downloads import catalog
from explorer.train.datasets.imagenet import imagenet_wnids

from test_downloads import folder, server  # noqa: F401  (the fixtures)
from test_imagenet_val import _by_hand


def _serve(server, monkeypatch, name: str, body: bytes) -> None:
    real = catalog.BY_NAME[name]
    part = dataclasses.replace(real.parts[0], url=server.base + real.parts[0].filename, size=len(body),
                               sha256=hashlib.sha256(body).hexdigest(), md5=hashlib.md5(body).hexdigest())
    server.files[part.filename] = body
    monkeypatch.setitem(catalog.BY_NAME, name, dataclasses.replace(real, parts=(part,)))


def test_drop_block_on_resnet50_and_imagenette_by_name(server, folder, tmp_path, monkeypatch, capsys,  # noqa: F811
                                                       one_torch_thread):
    from explorer.nn import build
    from explorer.spec import preset

    model = build(preset("resnet50"), seed=3).eval()
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    _serve(server, monkeypatch, "resnet50", buf.getvalue())

    wnids = imagenet_wnids()
    ten = ["n01440764", "n02102040"]  # tench (index 0) and English springer (217), two of Imagenette's ten
    rng = np.random.default_rng(5)
    archive = io.BytesIO()
    pictures = []
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for split in ("train", "val"):
            for wnid in ten:
                for i in range(2):
                    picture = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
                    data = io.BytesIO()
                    picture.save(data, format="PNG")
                    info = tarfile.TarInfo(f"imagenette2-320/{split}/{wnid}/{wnid}_{i}.png")
                    info.size = len(data.getvalue())
                    tar.addfile(info, io.BytesIO(data.getvalue()))
                    if split == "val":
                        picture.save(tmp_path / f"{wnid}_{i}.png")
                        pictures.append((tmp_path / f"{wnid}_{i}.png", wnids.index(wnid)))
    _serve(server, monkeypatch, "imagenette", archive.getvalue())

    assert main(["experiment", "drop-block", "resnet50", "--checkpoint", "resnet50", "--dataset", "imagenette"]) == 2
    assert "resnet50 is not downloaded yet: run `python main.py get resnet50`" in capsys.readouterr().err
    assert main(["get", "resnet50", "imagenette"]) == 0
    out = capsys.readouterr().out
    assert "resnet50: verified with SHA-256" in out and "imagenette: verified with SHA-256 + MD5" in out

    from explorer.nn.weights_file import read_weights_file  # what --init-weights resnet50 reads
    assert read_weights_file("resnet50").state_dict.keys() == model.state_dict().keys()

    code = main(["experiment", "drop-block", "resnet50", "--checkpoint", "resnet50", "--dataset", "imagenette",
                 "--blocks", "4.1", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "4 test images of imagenette (val)" in captured.err
    assert "accuracy is top-1 over all 1000 classes; 'among the 2': top-1 among the 2 classes" in captured.err
    result = json.loads(captured.out)["networks"][0]
    with torch.no_grad():
        logits = model(torch.stack([_by_hand(f) for f, _ in pictures]))
    labels = torch.tensor([label for _, label in pictures])
    columns = torch.tensor([0, 217])
    top1 = float((logits.argmax(1) == labels).float().mean())
    among = float((columns[logits[:, columns].argmax(1)] == labels).float().mean())
    assert result["baseline_accuracy"] == pytest.approx(top1)  # over all 1000 classes
    assert result["baseline_subset_accuracy"] == pytest.approx(among) and result["subset_classes"] == 2
    assert result["blocks"][0]["subset_accuracy"] is not None
    assert among >= top1
