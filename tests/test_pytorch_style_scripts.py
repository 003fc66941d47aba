"""Three PyTorch-style scripts (tests/pytorch_style) run on PyTorch and on dagrad with only their imports changed.

Each script is PyTorch code in the style of PyTorch's beginner examples: a cubic fitted to sin(x) with tensors
and hand-written gradients, with autograd and a custom autograd Function, and with nn + optim, plus an MLP
classifier evaluated under no_grad and checkpointed. Both runs start from the same values (NumPy arrays
handed to both) and must agree step by step: the losses of every step, the final parameters, what the
checkpoint gives back.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import safetensors.torch
import torch

import engine
import nn
from tests.pytorch_style import BEGIN, DAGRAD_LINES, END, HERE, LIBRARIES, SCRIPTS, import_block, load_script

INIT = (0.3, -0.8, 0.5, 0.1)  # a, b, c, d of the cubic, where the fits start


@pytest.fixture(autouse=True)
def one_torch_thread():
    """PyTorch's two threads crawl when the test workers share the machine's two cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def scripts():
    return {library: {name: load_script(name, library) for name in SCRIPTS} for library in LIBRARIES}


def run_both(scripts, name, run):
    """run(module) on the script as PyTorch runs it and as dagrad runs it: (torch's result, dagrad's)."""
    return run(scripts["torch"][name]), run(scripts["dagrad"][name])


def assert_steps_agree(theirs, mine, rtol, what="losses"):
    theirs, mine = np.asarray(theirs), np.asarray(mine)
    assert mine.shape == theirs.shape, what
    worst = int(np.argmax(np.abs(mine - theirs) / np.abs(theirs)))
    assert np.allclose(mine, theirs, rtol=rtol, atol=0), f"{what}: step {worst}: {mine[worst]} vs {theirs[worst]}"


# ----- the scripts are PyTorch code --------------------------------------------------------------------


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_dagrad_run_changes_only_the_import_block(name, scripts):
    source = (HERE / f"{name}.py").read_text(encoding="utf-8")
    start, stop = import_block(source, name)
    outside = source.splitlines()[: start - 1] + source.splitlines()[stop + 1 :]
    assert not re.search(r"\b(engine|dagrad)\b", "\n".join(outside)), "the code outside the imports is PyTorch's"
    mine = scripts["dagrad"][name]
    assert mine.torch is engine and mine.__file__ == str(HERE / f"{name}.py")
    assert scripts["torch"][name].torch is torch
    if hasattr(mine, "nn"):
        assert (mine.nn, mine.F, mine.optim, mine.save, mine.load) == (nn, nn.functional, nn.optim, nn.save, nn.load)
        assert mine.DataLoader is nn.data.DataLoader


def test_the_swap_refuses_an_import_it_does_not_know():
    from tests.pytorch_style import swap_imports

    source = f"{BEGIN}\nimport torch\nimport torchvision\n{END}\n"
    with pytest.raises(ValueError, match="torchvision"):
        swap_imports(source, "dagrad")
    assert (
        swap_imports(source.replace("import torchvision\n", ""), "dagrad")
        == f"{BEGIN}\n{DAGRAD_LINES['import torch']}\n{END}\n"
    )


# ----- polynomial_tensor: hand-written gradients ---------------------------------------------------------


def test_hand_written_gradients_float32(scripts):
    theirs, mine = run_both(scripts, "polynomial_tensor", lambda s: s.fit(init=INIT))
    assert mine["dtype"] == "float32" and theirs["dtype"] == "torch.float32"
    assert_steps_agree(theirs["losses"], mine["losses"], rtol=1e-5)
    np.testing.assert_allclose(mine["coefficients"], theirs["coefficients"], rtol=1e-5, atol=1e-7)
    assert mine["losses"][-1] < 10  # the fit: sin(x) ≈ 0.85 x - 0.09 x³ on [-π, π]


def test_hand_written_gradients_float64_to_the_last_digits(scripts):
    theirs, mine = run_both(scripts, "polynomial_tensor", lambda s: s.fit(steps=500, init=INIT, dtype=s.torch.float64))
    assert_steps_agree(theirs["losses"], mine["losses"], rtol=1e-12)
    np.testing.assert_allclose(mine["coefficients"], theirs["coefficients"], rtol=1e-11, atol=1e-14)


# ----- polynomial_autograd: autograd, and a custom autograd Function ----------------------------------------


def test_autograd_gives_the_hand_written_gradients(scripts):
    theirs, mine = run_both(scripts, "polynomial_autograd", lambda s: s.fit_cubic(init=INIT))
    assert_steps_agree(theirs["losses"], mine["losses"], rtol=1e-5)
    np.testing.assert_allclose(mine["coefficients"], theirs["coefficients"], rtol=1e-5, atol=1e-7)
    by_hand = scripts["dagrad"]["polynomial_tensor"].fit(steps=200, init=INIT, dtype=engine.float64)
    by_autograd = scripts["dagrad"]["polynomial_autograd"].fit_cubic(steps=200, init=INIT, dtype=engine.float64)
    assert_steps_agree(by_hand["losses"], by_autograd["losses"], rtol=1e-12)


def test_a_custom_function_written_pytorchs_way(scripts):
    theirs, mine = run_both(scripts, "polynomial_autograd", lambda s: s.fit_legendre())
    assert_steps_agree(theirs["losses"], mine["losses"], rtol=1e-5)
    np.testing.assert_allclose(mine["coefficients"], theirs["coefficients"], rtol=1e-5, atol=1e-6)
    legendre = scripts["dagrad"]["polynomial_autograd"].LegendrePolynomial3
    assert engine.gradcheck(
        legendre.apply, (engine.tensor([-0.9, 0.2, 0.7], dtype=engine.float64, requires_grad=True),)
    )


# ----- polynomial_nn: nn.Module, nn.functional, optim, no_grad, checkpoints ---------------------------------


def test_sequential_with_mse_loss_and_rmsprop(scripts):
    rng = np.random.default_rng(0)
    init = {"0.weight": rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32), "0.bias": np.float32([0.2])}
    theirs, mine = run_both(scripts, "polynomial_nn", lambda s: s.fit_sequential(init=init))
    # RMSprop's steps are ±lr wherever a gradient is ~0: near the minimum both jitter, each its own way
    assert_steps_agree(theirs["losses"][:1200], mine["losses"][:1200], rtol=1e-4)
    assert max(mine["losses"][-100:]) < 10 and max(theirs["losses"][-100:]) < 10
    np.testing.assert_allclose(mine["coefficients"], theirs["coefficients"], atol=5e-3)


def test_a_module_of_parameters_with_sgd_momentum(scripts):
    theirs, mine = run_both(scripts, "polynomial_nn", lambda s: s.fit_module(init=INIT))
    assert mine["names"] == theirs["names"] == ["a", "b", "c", "d"]
    assert_steps_agree(theirs["losses"], mine["losses"], rtol=1e-5)
    np.testing.assert_allclose(mine["coefficients"], theirs["coefficients"], rtol=1e-5, atol=1e-7)


def test_an_mlp_classifier_trained_evaluated_and_checkpointed(scripts, tmp_path):
    torch.manual_seed(0)
    init = {k: v.numpy().copy() for k, v in scripts["torch"]["polynomial_nn"].Classifier().state_dict().items()}
    order = np.random.default_rng(0).permutation(288)  # one order of the training points for both runs
    theirs, mine = run_both(
        scripts,
        "polynomial_nn",
        lambda s: s.classify_spirals(tmp_path / f"{s.__name__}.pt", order=order, init=init),
    )
    assert mine["parameters"] == theirs["parameters"] == 1283
    assert mine["lr"] == theirs["lr"]  # StepLR halves it every 15 epochs
    assert_steps_agree(theirs["train_loss"], mine["train_loss"], rtol=1e-5, what="train loss per epoch")
    assert_steps_agree(theirs["test_loss"], mine["test_loss"], rtol=1e-5, what="test loss per epoch")
    assert mine["test_accuracy"] == theirs["test_accuracy"] and mine["test_accuracy"][-1] >= 0.95
    assert mine["restored_matches"] and theirs["restored_matches"]
    assert mine["state"].keys() == theirs["state"].keys()
    for key, value in theirs["state"].items():
        assert mine["state"][key].dtype == value.dtype, key  # num_batches_tracked is int64 in both
        np.testing.assert_allclose(mine["state"][key], value, rtol=1e-5, atol=1e-5, err_msg=key)
    # dagrad's checkpoint is a safetensors file: it loads into the PyTorch model as it is
    model = scripts["torch"]["polynomial_nn"].Classifier()
    model.load_state_dict(safetensors.torch.load_file(tmp_path / "pytorch_style_polynomial_nn_dagrad.pt"))
    np.testing.assert_array_equal(model.layers[0].weight.detach().numpy(), mine["state"]["layers.0.weight"])


# ----- and each script's main() as its author runs it ----------------------------------------------------


@pytest.mark.parametrize("name", SCRIPTS)
def test_main_runs_on_dagrad(name, scripts, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    scripts["dagrad"][name].main()
    assert "Result: y = " in capsys.readouterr().out
