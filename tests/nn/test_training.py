"""nn.fit: learning on real problems, History, Ctrl-C handling, checkpoints and bit-identical resume."""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
import nn
from nn import functional as F
from nn.data import DataLoader, Standardizer, TensorDataset, train_test_split


def _bce(output: engine.Tensor, target: engine.Tensor) -> engine.Tensor:
    return F.binary_cross_entropy_with_logits(output.squeeze(-1), target.astype(np.float32))


# ----- learning ------------------------------------------------------------------------------------
def test_xor_with_a_2_8_1_tanh_mlp_reaches_100_percent() -> None:
    engine.manual_seed(0)
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [8], 1, activation="tanh")
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    history = nn.fit(model, _bce, optimizer, DataLoader(TensorDataset(X, y), batch_size=4), epochs=300, progress=False)
    assert history.train["accuracy"][-1] == 1.0
    assert nn.evaluate(model, _bce, DataLoader(TensorDataset(X, y), batch_size=4))["accuracy"] == 1.0


def test_moons_with_a_2_16_16_1_mlp_reaches_99_percent() -> None:
    engine.manual_seed(0)
    X, y = nn.datasets.moons(200, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16], 1)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.02)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    history = nn.fit(model, _bce, optimizer, loader, epochs=100, progress=False)
    assert history.train["accuracy"][-1] >= 0.99
    assert all(p.dtype == np.float32 for p in model.parameters())  # float32 end to end
    assert all(v.dtype == np.float32 for s in optimizer.state.values() for v in s.values() if hasattr(v, "dtype"))


def test_moons_with_micrograds_svm_loss_and_sgd() -> None:
    engine.manual_seed(1)
    X, y = nn.datasets.moons(100, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16], 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    signs = (2 * y - 1).astype(np.float32)
    history = nn.fit(
        model,
        lambda out, t: F.hinge_loss(out.squeeze(-1), t),
        optimizer,
        DataLoader(TensorDataset(X, signs), batch_size=100),
        epochs=100,
        progress=False,
    )
    assert history.train["accuracy"][-1] >= 0.97


def test_digits_64_128_64_10_with_adam_reaches_96_percent_test_accuracy() -> None:
    engine.manual_seed(1)
    X, y = nn.datasets.digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.25, seed=0, stratify=y)
    scaler = Standardizer().fit(X_train)
    train = DataLoader(TensorDataset(scaler.transform(X_train), y_train), batch_size=32, shuffle=True, seed=1)
    test = DataLoader(TensorDataset(scaler.transform(X_test), y_test), batch_size=256)
    model = nn.MLP(64, [128, 64], 10)
    optimizer = nn.optim.Adam(model.parameters(), lr=3e-3)
    history = nn.fit(model, F.cross_entropy, optimizer, train, epochs=8, val_loader=test, progress=False)
    assert history.val["accuracy"][-1] >= 0.96
    assert history.val["loss"][-1] < history.val["loss"][0]


# ----- history and the loop ------------------------------------------------------------------------
def _classification_setup(loader_seed: int | None = 1, model_seed: int = 0):
    engine.manual_seed(model_seed)
    X, y = nn.datasets.spiral(96, classes=3, seed=0)
    model = nn.MLP(2, [16, 16], 3, dropout=0.1, batch_norm=True)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    train = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=loader_seed)
    val = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=20)
    return model, optimizer, scheduler, train, val


def test_history_records_every_epoch_and_lr(capsys: pytest.CaptureFixture) -> None:
    model, optimizer, scheduler, train, val = _classification_setup()
    history = nn.fit(model, F.cross_entropy, optimizer, train, epochs=4, val_loader=val, scheduler=scheduler)
    assert history.epochs == 4 and not history.interrupted
    assert set(history.train) == {"loss", "accuracy"} and set(history.val) == {"loss", "accuracy"}
    assert all(len(v) == 4 for v in [*history.train.values(), *history.val.values()])
    assert history.lr == [0.01, 0.01, 0.005, 0.005]
    assert history.to_dict()["epochs"] == 4 and nn.History.from_dict(history.to_dict()) == history
    assert "epoch 4/4  loss " in capsys.readouterr().out  # the per-epoch summary line
    assert model.training  # validation switched to eval and back


def test_custom_metrics_and_errors() -> None:
    model, optimizer, _, train, _ = _classification_setup()

    def top_class_share(output, target):
        return float(np.mean(output.data.argmax(1) == 0))

    history = nn.fit(model, F.cross_entropy, optimizer, train, epochs=1, metrics=[top_class_share], progress=False)
    assert set(history.train) == {"loss", "top_class_share"}
    with pytest.raises(ValueError, match=r"unknown metric 'f1'"):
        nn.fit(model, F.cross_entropy, optimizer, train, epochs=1, metrics=["f1"], progress=False)
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar Tensor"):
        nn.fit(model, lambda o, t: F.cross_entropy(o, t, reduction="none"), optimizer, train, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"resume=True needs checkpoint_dir"):
        nn.fit(model, F.cross_entropy, optimizer, train, epochs=1, resume=True, progress=False)


# ----- progress output ---------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tiny_fit(progress: bool | None = None) -> nn.History:
    engine.manual_seed(0)
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [4], 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(X, y), batch_size=2)
    return nn.fit(model, _bce, optimizer, loader, epochs=2, progress=progress)


def test_no_progress_bar_when_the_output_is_not_a_terminal(capsys: pytest.CaptureFixture) -> None:
    history = _tiny_fit()  # capsys's stdout and stderr are not terminals, like a CI log or a pipe
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"epoch {e + 1}/2  loss {history.train['loss'][e]:.4f}  accuracy {history.train['accuracy'][e]:.4f}"
        for e in range(2)
    ]
    assert err == ""
    assert "%|" not in out and "it/s" not in out


def test_progress_bar_on_a_terminal_or_when_forced(capsys: pytest.CaptureFixture, monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _tiny_fit()
    assert "epoch 2/2:" in terminal.getvalue() and "%|" in terminal.getvalue()
    monkeypatch.undo()
    _tiny_fit(progress=True)  # a bar even where the output is not a terminal (a notebook, a log on purpose)
    out, err = capsys.readouterr()
    assert "%|" in err and out.count("epoch ") == 4  # 2 from the terminal run, 2 from this one
    _tiny_fit(progress=False)
    assert capsys.readouterr() == ("", "")


# ----- Ctrl-C --------------------------------------------------------------------------------------
def _snapshot(model: nn.Module, optimizer: nn.optim.Optimizer) -> dict[str, np.ndarray]:
    state = {f"model.{k}": v.data.copy() for k, v in model.state_dict().items()}
    for index, values in optimizer.state_dict()["state"].items():
        for name, value in values.items():
            state[f"optimizer.{index}.{name}"] = np.array(value)
    return state


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_keyboard_interrupt_in_a_dataset_leaves_a_consistent_state(tmp_path: Path) -> None:
    model, optimizer, scheduler, train, _ = _classification_setup()
    dataset = train.dataset
    calls = {"n": 0}

    class Flaky(nn.data.Dataset):
        def __len__(self) -> int:
            return len(dataset)

        def __getitem__(self, index: int):
            calls["n"] += 1
            if calls["n"] == len(dataset) + 40:  # in the middle of the second epoch's third batch
                raise KeyboardInterrupt
            return dataset[index]

    loader = DataLoader(Flaky(), batch_size=16, shuffle=True, seed=1)
    snapshots = []
    history = nn.fit(
        model,
        F.cross_entropy,
        optimizer,
        loader,
        epochs=5,
        scheduler=scheduler,
        checkpoint_dir=tmp_path,
        progress=False,
        on_batch_end=lambda epoch, batch, loss: snapshots.append(_snapshot(model, optimizer)),
    )
    assert history.interrupted and history.epochs == 1
    assert len(snapshots) == 6 + 2  # one full epoch of 6 batches, then 2 complete batches
    _assert_same(_snapshot(model, optimizer), snapshots[-1])  # nothing half-applied
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["checkpoint-epoch0001.safetensors"]
    restored, optimizer2, scheduler2, _, _ = _classification_setup(model_seed=9)
    epoch, saved_history = nn.load_checkpoint(
        tmp_path / "checkpoint-epoch0001.safetensors", restored, optimizer2, scheduler=scheduler2
    )
    assert epoch == 1 and saved_history.epochs == 1
    _assert_same(_snapshot(restored, optimizer2), snapshots[5])  # the checkpoint is the end of epoch 1


def test_real_ctrl_c_finishes_the_current_batch_then_stops() -> None:
    model, optimizer, _, train, _ = _classification_setup()
    handler_before = signal.getsignal(signal.SIGINT)
    steps = []

    def press_ctrl_c(epoch: int, batch: int, loss: float) -> None:
        steps.append((epoch, batch))
        if (epoch, batch) == (1, 2):
            os.kill(os.getpid(), signal.SIGINT)

    history = nn.fit(model, F.cross_entropy, optimizer, train, epochs=5, progress=False, on_batch_end=press_ctrl_c)
    assert history.interrupted and history.epochs == 1
    assert steps[-1] == (1, 2)
    assert all(s["step"] == 6 + 3 for s in optimizer.state.values())  # every started batch was completed
    assert signal.getsignal(signal.SIGINT) is handler_before


# ----- checkpoints and resume ----------------------------------------------------------------------
@pytest.mark.parametrize("loader_seed", [1, None], ids=["loader-own-seed", "loader-engine-generator"])
def test_resumed_run_is_bit_identical_to_an_uninterrupted_run(tmp_path: Path, loader_seed: int | None) -> None:
    epochs = 5
    model, optimizer, scheduler, train, val = _classification_setup(loader_seed)
    reference = nn.fit(model, F.cross_entropy, optimizer, train, epochs, val, scheduler=scheduler, progress=False)
    expected = _snapshot(model, optimizer)

    model, optimizer, scheduler, train, val = _classification_setup(loader_seed)

    def interrupt(epoch: int, batch: int, loss: float) -> None:
        if (epoch, batch) == (2, 3):
            raise KeyboardInterrupt

    partial = nn.fit(
        model,
        F.cross_entropy,
        optimizer,
        train,
        epochs,
        val,
        scheduler=scheduler,
        progress=False,
        checkpoint_dir=tmp_path,
        on_batch_end=interrupt,
    )
    assert partial.interrupted and partial.epochs == 2

    # A new process would rebuild everything from scratch (even with another seed) and resume.
    model, optimizer, scheduler, train, val = _classification_setup(loader_seed, model_seed=123)
    engine.manual_seed(456)
    resumed = nn.fit(
        model,
        F.cross_entropy,
        optimizer,
        train,
        epochs,
        val,
        scheduler=scheduler,
        progress=False,
        checkpoint_dir=tmp_path,
        resume=True,
    )
    _assert_same(_snapshot(model, optimizer), expected)  # bit-identical weights, buffers and optimizer state
    assert resumed.to_dict() == reference.to_dict()
    assert scheduler.get_last_lr() == [0.01 * 0.5 ** (epochs // 2)]
    assert [p.name for p in sorted(tmp_path.iterdir())] == [f"checkpoint-epoch{e:04d}.safetensors" for e in range(1, 6)]


def test_checkpoint_every_and_keep_last(tmp_path: Path) -> None:
    model, optimizer, _, train, _ = _classification_setup()
    nn.fit(
        model,
        F.cross_entropy,
        optimizer,
        train,
        epochs=5,
        progress=False,
        checkpoint_dir=tmp_path,
        checkpoint_every=2,
        keep_last=2,
    )
    assert [p.name for p in sorted(tmp_path.iterdir())] == [
        "checkpoint-epoch0004.safetensors",
        "checkpoint-epoch0005.safetensors",
    ]
    assert nn.latest_checkpoint(tmp_path).name == "checkpoint-epoch0005.safetensors"


def test_resume_skips_a_corrupt_newest_checkpoint_and_rejects_another_setup(tmp_path: Path) -> None:
    model, optimizer, _, train, _ = _classification_setup()
    nn.fit(model, F.cross_entropy, optimizer, train, epochs=2, progress=False, checkpoint_dir=tmp_path)
    (tmp_path / "checkpoint-epoch0003.safetensors").write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match=r"skipping unreadable checkpoint for epoch 3"):
        assert nn.latest_checkpoint(tmp_path).name == "checkpoint-epoch0002.safetensors"
    other_model, _, _, _, _ = _classification_setup(model_seed=5)
    before = _snapshot(other_model, nn.optim.SGD(other_model.parameters()))
    with pytest.raises(ValueError, match=r"holds Adam state but the optimizer is SGD"):
        nn.load_checkpoint(
            tmp_path / "checkpoint-epoch0002.safetensors", other_model, nn.optim.SGD(other_model.parameters())
        )
    wrong = nn.MLP(2, [16, 16], 3)  # no batch norm: other keys
    with pytest.raises(ValueError, match=r"missing key|unexpected key"):
        nn.load_checkpoint(tmp_path / "checkpoint-epoch0002.safetensors", wrong, nn.optim.Adam(wrong.parameters()))
    _assert_same(_snapshot(other_model, nn.optim.SGD(other_model.parameters())), before)
