"""Good inputs the fuzz suite breaks: a motion clip (SMPL-X parameters, joints, features), the tiny motion
tokenizer and LSLM of the model tests, and their saved folders. Session-scoped: built once."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import SENTENCES, make_llm, make_motion_tokenizer, make_text_tokenizer

FRAMES = 17


@pytest.fixture(scope="session")
def clip() -> dict:
    """One smooth clip at 30 fps on lslm's rest skeleton: params (SMPL-X, T frames), joints (T, 52, 3),
    features (T − 1, 623), and a padded batch of two clips (joints, features, lengths)."""
    from lslm.motion import default_rest_skeleton, joints_to_features, smplx_to_joints

    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, FRAMES)[:, None]
    params = {"global_orient": 0.1 * np.sin(3 * t) * np.ones((1, 3)),
              "body_pose": 0.2 * np.sin(2 * t + rng.uniform(0, 3, 63)),
              "left_hand_pose": 0.1 * np.cos(t + rng.uniform(0, 3, 45)),
              "right_hand_pose": 0.1 * np.cos(2 * t + rng.uniform(0, 3, 45)),
              "transl": np.concatenate([0.1 * t, 0.9 + 0 * t, 0.05 * t], axis=1)}
    joints = smplx_to_joints(params)  # (T, 52, 3) float32
    target = default_rest_skeleton()
    features = joints_to_features(joints, target=target, fps=30.0)
    batch_joints = np.stack([joints, joints[::-1].copy()])  # (2, T, 52, 3)
    return {"params": params, "joints": joints, "features": features, "target": target,
            "batch_joints": batch_joints, "batch_features": np.stack([features, features[::-1].copy()]),
            "lengths": np.array([FRAMES, FRAMES - 4])}


@pytest.fixture(scope="session")
def tokenizer():
    return make_motion_tokenizer()


@pytest.fixture(scope="session")
def tokenizer_dir(tokenizer, tmp_path_factory):
    return tokenizer.save_pretrained(tmp_path_factory.mktemp("fuzz_tokenizer") / "tokenizer")


@pytest.fixture(scope="session")
def model():
    """The tiny projector-mode LSLM of the model tests (seeded)."""
    from lslm.model import LSLM, LSLMConfig

    text = make_text_tokenizer(SENTENCES)
    torch.manual_seed(1)
    return LSLM(LSLMConfig(llm="tiny"), make_llm(len(text)), text, make_motion_tokenizer()).eval()


@pytest.fixture(scope="session")
def model_dir(model, tmp_path_factory):
    return model.save_pretrained(tmp_path_factory.mktemp("fuzz_model") / "model")


def pytest_terminal_summary(terminalreporter):
    """How many malformed inputs the fuzz tests that ran tried, per surface."""
    from fuzzing import COUNTS

    if COUNTS:
        parts = ", ".join(f"{surface} {n}" for surface, n in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzz suite: {sum(COUNTS.values())} malformed inputs ({parts})")
