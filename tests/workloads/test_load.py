"""``accelsim.workloads.load``: one entry point for zoo names, SCALE-Sim CSV and ONNX paths."""

import pytest

from accelsim import AccelsimError
from accelsim.workloads import ZOO_NAMES, load, write_scalesim_csv, zoo


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_zoo_names(name):
    assert load(name) == zoo(name)


def test_paths_by_extension(tmp_path):
    layers = zoo("resnet18")
    for spec in (tmp_path / "net.csv", tmp_path / "NET.CSV"):
        write_scalesim_csv(layers, spec)
        assert [layer.macs for layer in load(spec)] == [layer.macs for layer in layers]
        assert [layer.macs for layer in load(str(spec))] == [layer.macs for layer in layers]


def test_zoo_name_wins_over_a_file_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vgg16").write_text("not a workload")
    assert load("vgg16") == zoo("vgg16")


@pytest.mark.parametrize("spec", ["resnet101", "model.pt", "topology.txt", "", "ResNet50"])
def test_unknown_spec(spec):
    with pytest.raises(AccelsimError) as err:
        load(spec)
    assert str(err.value) == (
        f"workload must be a zoo network ({', '.join(ZOO_NAMES)}) or a path ending .csv or .onnx, "
        f"not {spec!r}"
    )
