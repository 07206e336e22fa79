"""Atomic checkpoint directories, step_N discovery and pruning, training state and RNG round trips."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from lslm.errors import InvalidInputError
from lslm.training.checkpoint import CheckpointManager, TrainingState, load_training_state, rng_state, save_training_state, set_rng_state
from lslm.atomic import write_dir_atomic
from lslm.training.logging import MetricsLogger, read_metrics


def _write_step(manager: CheckpointManager, step: int):
    return manager.save(f"step_{step}", lambda d: save_training_state(d, TrainingState(step=step, rng=[])))


def test_failed_write_leaves_the_old_directory_untouched(tmp_path):
    write_dir_atomic(tmp_path / "best", lambda d: (d / "w.txt").write_text("old"))

    def crash(d):
        (d / "w.txt").write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_dir_atomic(tmp_path / "best", crash)
    assert (tmp_path / "best" / "w.txt").read_text() == "old"
    write_dir_atomic(tmp_path / "best", lambda d: (d / "w.txt").write_text("new"))  # replaces, cleans the tmp
    assert (tmp_path / "best" / "w.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_latest_is_the_highest_complete_step(tmp_path):
    manager = CheckpointManager(tmp_path, keep_last=0)
    assert manager.latest() is None and manager.resolve_resume("auto") is None
    for step in (2, 9, 10):
        _write_step(manager, step)
    (tmp_path / "step_20").mkdir()                      # no training state: incomplete
    (tmp_path / ".tmp-step_30").mkdir()                 # a save that was killed
    assert manager.latest() == tmp_path / "step_10"     # numeric, not lexical order
    assert manager.resolve_resume("auto") == tmp_path / "step_10"
    assert manager.resolve_resume(str(tmp_path / "step_2")) == tmp_path / "step_2"
    assert manager.resolve_resume(None) is None
    with pytest.raises(InvalidInputError, match="step_20"):
        manager.resolve_resume(str(tmp_path / "step_20"))


def test_keep_last_prunes_old_steps_only(tmp_path):
    manager = CheckpointManager(tmp_path, keep_last=2)
    for step in (1, 2, 3, 4):
        _write_step(manager, step)
    manager.save("best", lambda d: None)
    assert [s for s, _ in manager.step_dirs()] == [3, 4]
    assert (tmp_path / "best").is_dir()


def test_training_state_round_trip_restores_optimizer_and_rngs(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    save_training_state(tmp_path, TrainingState(step=1, rng=[rng_state()], position=8, unlogged=[0.5, 2.0],
                                                unlogged_steps=2, optimizer=optimizer.state_dict()))
    draws = (random.random(), np.random.rand(), torch.rand(1).item())

    state = load_training_state(tmp_path)  # weights_only: no arbitrary pickle is executed
    fresh = torch.optim.AdamW(model.parameters(), lr=1e-3)
    fresh.load_state_dict(state.optimizer)
    assert torch.equal(fresh.state_dict()["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])
    assert (state.step, state.position, state.phase, state.unlogged, state.unlogged_steps) == (1, 8, 0, [0.5, 2.0], 2)
    set_rng_state(state.rng[0])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == draws


class _Payload:
    pass


def test_training_state_refuses_foreign_pickles(tmp_path):
    (tmp_path / "training_state").mkdir()
    torch.save({"x": _Payload()}, tmp_path / "training_state" / "state.pt")
    with pytest.raises(InvalidInputError, match="state.pt"):
        load_training_state(tmp_path)
    (tmp_path / "training_state" / "state.pt").write_text("not a checkpoint\n" * 20)  # a text file
    with pytest.raises(InvalidInputError, match="state.pt"):
        load_training_state(tmp_path)
    torch.save({"step": 1, "rng": [], "loss_window": [0.0]}, tmp_path / "training_state" / "state.pt")
    with pytest.raises(InvalidInputError, match="loss_window"):  # a field TrainingState does not know
        load_training_state(tmp_path)


def test_metrics_logger_drops_rows_after_the_resumed_step(tmp_path):
    logger = MetricsLogger(tmp_path)
    for step in (1, 2, 3):
        logger.log(step, "train", {"loss": step / 10})
    MetricsLogger(tmp_path, resume_step=2).log(3, "train", {"loss": 0.7})
    assert [(r["step"], r["loss"]) for r in read_metrics(tmp_path / "metrics.jsonl")] == [(1, .1), (2, .2), (3, .7)]
    MetricsLogger(tmp_path, enabled=False).log(4, "train", {"loss": 1.0})  # other ranks write nothing
    assert len(read_metrics(tmp_path / "metrics.jsonl")) == 3
