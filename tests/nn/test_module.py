"""Module machinery: registration, traversal, modes, dtypes, state_dict, hooks, scopes, repr and summary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
import nn
from engine.graph import walk


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 2)])
        self.norm = nn.LayerNorm(2)
        self.scale = nn.Parameter([1.5])
        self.register_buffer("counter", engine.zeros(1))
        self.plain = 7  # not registered

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).tanh()
        return self.norm(x) * self.scale


def test_parameters_register_with_dotted_names() -> None:
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == [
        "scale",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "norm.weight",
        "norm.bias",
    ]
    assert all(p.requires_grad and p.is_leaf for p in block.parameters())
    assert [n for n, _ in block.named_buffers()] == ["counter"]
    assert [n for n, _ in block.named_children()] == ["layers", "norm"]
    assert [n for n, _ in block.named_modules()] == ["", "layers", "layers.0", "layers.1", "norm"]
    assert block.num_parameters() == 1 + 12 + 4 + 8 + 2 + 2 + 2
    assert list(block.state_dict()) == names[:1] + ["counter"] + names[1:]


def test_shared_parameters_are_listed_once_and_reassignment_updates_registries() -> None:
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    block = Block()
    block.norm = None
    assert "norm.weight" not in dict(block.named_parameters())
    with pytest.raises(TypeError, match=r"Block.scale is a parameter; assign an nn.Parameter"):
        block.scale = engine.ones(1)
    del block.scale
    assert "scale" not in dict(block.named_parameters())


def test_assigning_before_init_is_a_clear_error() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Broken.__init__"):
        Broken()


def test_train_eval_reach_every_submodule() -> None:
    model = nn.MLP(2, [3], 1, dropout=0.5)
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_to_dtype_converts_parameters_and_float_buffers_in_place() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    model.double()
    assert model[0].weight is weight and weight.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    assert model(engine.randn(4, 2, dtype=np.float64)).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(TypeError, match=r"floating-point dtype"):
        model.to(np.int64)


def test_to_takes_pytorchs_forms_device_dtype_and_tensor() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    for args, kwargs in [(("cpu",), {}), ((engine.device("cpu"),), {}), (("cpu", engine.float64), {}),
                         ((), {"dtype": engine.float32}), ((), {"device": "cpu", "dtype": engine.float64}),
                         ((engine.zeros(1, dtype=np.float32),), {})]:  # fmt: skip
        torch_args = tuple(_as_torch(a) for a in args)
        torch_kwargs = {k: _as_torch(v) for k, v in kwargs.items()}
        assert model.to(*args, **kwargs) is model
        assert reference.to(*torch_args, **torch_kwargs) is reference
        assert str(model[0].weight.dtype) == str(reference[0].weight.dtype).removeprefix("torch.")
        assert model[1].num_batches_tracked.dtype == np.int64
    assert model.cpu() is model
    for bad in [lambda: model.to("cuda"), lambda: model.to("cuda:0", engine.float32), lambda: model.cuda()]:
        with pytest.raises(RuntimeError, match=r"dagrad runs on the CPU only"):
            bad()
    with pytest.raises(TypeError, match=r"Sequential.to: expected a floating-point dtype, got int64"):
        model.to(engine.long)


def _as_torch(value: object) -> object:
    """A dagrad dtype, device or tensor given to Module.to, as torch's."""
    if isinstance(value, engine.Tensor):
        return torch.from_numpy(value.numpy())
    if isinstance(value, np.dtype):
        return getattr(torch, str(value))
    if isinstance(value, engine.device):
        return torch.device("cpu")
    return value


def test_zero_grad_sets_none_or_fresh_zeros() -> None:
    model = nn.Linear(2, 1)
    model(engine.ones(3, 2)).sum().backward()
    old = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert (model.weight.grad.data == 0).all() and model.weight.grad is not old
    assert (old.data != 0).any()  # the previous gradient array was not zeroed in place
    model.zero_grad()
    assert model.weight.grad is None


def test_state_dict_round_trip_copies_values_and_keeps_dtype() -> None:
    engine.manual_seed(0)
    source = nn.MLP(3, [4], 2)
    target = nn.MLP(3, [4], 2)
    state = {k: v.data.astype(np.float64) for k, v in source.state_dict().items()}  # NumPy arrays, float64
    weight = target[0].weight
    assert target.load_state_dict(state) == ([], [])
    assert target[0].weight is weight and weight.dtype == np.float32
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key].data, value.data)
    target.load_state_dict(source.state_dict())  # Tensors too


def test_strict_load_lists_every_problem_in_one_error() -> None:
    model = nn.MLP(3, [4], 2)
    state = dict(model.state_dict())
    del state["0.bias"]
    state["extra.weight"] = np.zeros(2)
    state["2.weight"] = np.zeros((5, 4))
    before = model[0].weight.data.copy()
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing key(s): '0.bias'" in message
    assert "unexpected key(s): 'extra.weight'" in message
    assert "'2.weight': shape (5, 4) in the state dict, (2, 4) in the model" in message
    np.testing.assert_array_equal(model[0].weight.data, before)  # nothing was copied


def test_non_strict_load_returns_missing_and_unexpected_but_rejects_shape_mismatch() -> None:
    model = nn.MLP(3, [4], 2)
    result = model.load_state_dict({"0.weight": np.ones((4, 3)), "other": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias", "2.weight", "2.bias"] and result.unexpected_keys == ["other"]
    assert (model[0].weight.data == 1).all()
    with pytest.raises(ValueError, match=r"size mismatch"):
        model.load_state_dict({"0.weight": np.ones((3, 3))}, strict=False)


def test_load_bumps_versions_so_stale_graphs_refuse_backward() -> None:
    model = nn.Linear(2, 1)
    loss = model(engine.ones(1, 2, requires_grad=True)).sum()  # the input's gradient needs the weight: it is saved
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match=r"modified in place"):
        loss.backward()


def test_forward_hooks_and_pre_hooks_can_be_removed() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = []
    handle = model[0].register_forward_hook(lambda m, inputs, output: seen.append((type(m).__name__, output.shape)))
    pre = model.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0,))
    out = model(engine.ones(4, 2))
    assert seen == [("Linear", (4, 3))]
    np.testing.assert_array_equal(out.data, np.maximum(model[0].bias.data, 0) * np.ones((4, 1)))
    handle.remove()
    pre.remove()
    model(engine.ones(4, 2))
    assert len(seen) == 1
    replaced = model.register_forward_hook(lambda m, i, o: o * 2)
    assert np.allclose(model(engine.ones(1, 2)).data, 2 * nn.Sequential(*model)(engine.ones(1, 2)).data)
    replaced.remove()


def test_ops_are_tagged_with_the_innermost_module() -> None:
    model = Block()
    out = model(engine.ones(2, 3))
    scopes = {id(t.grad_fn.scope) for t in walk(out) if t.grad_fn is not None}
    names = {id(m): name for name, m in model.named_modules()}
    assert {names[s] for s in scopes if s in names} == {"", "layers.0", "layers.1", "norm"}
    linear_nodes = [t.grad_fn for t in walk(out) if t.grad_fn is not None and t.grad_fn.name == "Linear"]
    assert [n.scope for n in linear_nodes] == [model.layers[0], model.layers[1]]


def test_repr_matches_torch() -> None:
    ours = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.LayerNorm(16), nn.Linear(16, 1, bias=False))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 16),
        torch.nn.ReLU(),
        torch.nn.LayerNorm(16),
        torch.nn.Linear(16, 1, bias=False),
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.BatchNorm1d(4)) == repr(torch.nn.BatchNorm1d(4))
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1)"  # torch adds inplace=False; dagrad has no in-place dropout
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\ntensor(")


def test_summary_returns_the_table_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """print(nn.summary(model, shape)) printed the table twice: summary printed it, then returned it as text."""
    model = nn.MLP(64, [128, 64], 10, batch_norm=True)
    model.train()
    result = nn.summary(model, (64,))
    assert capsys.readouterr().out == ""
    print(result)
    printed = capsys.readouterr().out
    assert printed == str(result) + "\n" and printed.count("Total params") == 1
    assert repr(result) == str(result)  # a notebook cell or the REPL shows the table, not an object's address
    text = str(result)
    lines = text.splitlines()
    assert any(line.split()[:4] == ["0", "Linear", "(-1,", "128)"] and line.endswith("8,320") for line in lines)
    assert any(line.startswith("1 ") and "BatchNorm1d" in line and line.endswith("256") for line in lines)
    assert f"Total params: {model.num_parameters():,}" in text
    assert model.training and all(m.training for m in model.modules())  # the mode was restored
    assert not model[0]._forward_hooks  # the hooks were removed


def test_summary_rows_and_totals_are_data() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model[2].weight.requires_grad = False
    result = model.summary((3,))
    assert [(row.name, row.type, row.output_shape, row.params) for row in result.rows] == [
        ("0", "Linear", "(-1, 4)", 16),
        ("1", "ReLU", "(-1, 4)", 0),
        ("2", "Linear", "(-1, 2)", 10),
    ]
    assert result.input_shape == (3,)
    assert (result.total_params, result.trainable_params, result.non_trainable_params) == (26, 18, 8)
    assert str(result) == str(nn.summary(model, (3,)))


def test_sequential_and_module_list_indexing() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(model[-1], nn.Linear) and len(model) == 3
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head.state_dict()) == ["0.weight", "0.bias"]
    with pytest.raises(IndexError, match=r"index 5 is out of range for 3 modules"):
        model[5]
    with pytest.raises(TypeError, match=r"Sequential: expected an nn.Module, got int"):
        nn.Sequential(nn.ReLU(), 3)
    layers = nn.ModuleList()
    layers.append(nn.Linear(1, 1))
    layers.extend([nn.Tanh()])
    assert len(layers) == 2 and [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias"]
    with pytest.raises(NotImplementedError, match=r"ModuleList has no forward"):
        layers(engine.ones(1))
