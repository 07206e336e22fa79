"""The public Tokenizer: save/load, encode/decode contracts, input validation."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

import lslm
from lslm.errors import CheckpointMismatchError, ConfigError, InvalidInputError
from lslm.motion import Normalizer, default_rest_skeleton, joints_to_features
from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig

D = 623


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    """A tiny tokenizer whose EMA codebook was initialised and updated on data (not all zeros)."""
    torch.manual_seed(0)
    model = VQVAE(TokenizerConfig(width=32, code_dim=16, codebook_size=16))
    for _ in range(3):
        model(torch.randn(4, 16, D))
    normalizer = Normalizer(torch.randn(D) * 0.1, torch.rand(D) + 0.5)
    return Tokenizer(model, normalizer, default_rest_skeleton(), fps=30.0)


def raw(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_properties(tok):
    assert lslm.Tokenizer is Tokenizer
    assert tok.num_codes == tok.codebook_size == 16 and tok.code_dim == 16 and tok.downsample == 4
    assert tok.codebook.shape == (16, 16)
    assert len(tok.codebook.unique(dim=0)) == 16                    # initialised from data


def test_save_load_gives_identical_codes(tok, tmp_path):
    x = raw(3, 32, D)
    codes = tok.encode(x)
    assert len(codes.unique()) > 2                                  # a test that could fail
    out = tok.save_pretrained(tmp_path / "vq")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["vq"]           # no temp folder left behind
    loaded = Tokenizer.from_pretrained(tmp_path / "vq")
    assert torch.equal(loaded.encode(x), codes)
    assert torch.equal(loaded.decode(codes), tok.decode(codes))
    assert torch.equal(loaded.codebook, tok.codebook)
    assert loaded.config == tok.config and loaded.fps == 30.0 and loaded.compat is True
    assert torch.equal(loaded.normalizer.std, tok.normalizer.std)
    np.testing.assert_array_equal(loaded.target_skeleton.offsets, tok.target_skeleton.offsets)
    assert loaded.target_skeleton == tok.target_skeleton
    tok.save_pretrained(tmp_path / "vq")                            # overwriting an existing folder
    assert torch.equal(Tokenizer.from_pretrained(tmp_path / "vq").encode(x), codes)


def test_loading_refuses_pickles_and_unknown_keys(tok, tmp_path):
    folder = tok.save_pretrained(tmp_path / "vq")
    (folder / "model.safetensors").write_bytes(pickle.dumps({"mean": np.zeros(3)}))
    with pytest.raises(InvalidInputError, match="model.safetensors"):
        Tokenizer.from_pretrained(folder)
    folder = tok.save_pretrained(tmp_path / "vq2")
    config = json.loads((folder / "config.json").read_text())
    config["tokenizer"]["codebook"] = 512
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="codebook"):
        Tokenizer.from_pretrained(folder)
    config["tokenizer"].pop("codebook")
    config["tokenizer"]["codebook_size"] = 32                       # weights hold 16 codes
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointMismatchError, match="codebook"):
        Tokenizer.from_pretrained(folder)
    with pytest.raises(InvalidInputError, match="config.json"):
        Tokenizer.from_pretrained(tmp_path / "missing")


def test_bad_input_is_reported(tok):
    with pytest.raises(InvalidInputError, match="features.*623"):
        tok.encode(raw(2, 16, 600))
    nan = raw(16, D)
    nan[3, 5] = float("nan")
    with pytest.raises(InvalidInputError, match="NaN"):
        tok.encode(nan)
    with pytest.raises(InvalidInputError, match="at least 4 frames"):
        tok.encode(raw(3, D))
    with pytest.raises(InvalidInputError, match="at least 4 frames"):
        tok.encode(raw(2, 16, D), lengths=[16, 2])
    with pytest.raises(InvalidInputError, match="lengths"):
        tok.encode(raw(2, 16, D), lengths=[16, 17])


def test_batched_encode_equals_per_clip_encode(tok):
    lengths = [16, 13, 8, 16, 5]
    x = raw(5, 16, D)
    for i, n in enumerate(lengths):
        x[i, n:] = 1e3                                              # padding content must not matter
    codes = tok.encode(x, lengths=lengths)
    assert codes.shape == (5, 4)
    for i, n in enumerate(lengths):
        alone = tok.encode(x[i, :n])
        assert alone.shape == (n // 4,)
        assert torch.equal(codes[i, : n // 4], alone)
        assert (codes[i, n // 4:] == -1).all()
    # trailing frames that do not fill a code are dropped
    assert torch.equal(tok.encode(x[1, :13]), tok.encode(x[1, :12]))


def test_decode_ignores_padding(tok):
    codes = torch.tensor([[1, 2, 3, 4], [5, 6, -1, -1], [7, -1, -1, -1]])
    feats, lengths = tok.decode(codes, return_lengths=True)
    assert feats.shape == (3, 16, D) and lengths.tolist() == [16, 8, 4]
    for i, n in enumerate([4, 2, 1]):
        alone = tok.decode(codes[i, :n])
        assert torch.allclose(feats[i, : 4 * n], alone, atol=1e-5)          # one batch, same maths
        assert (feats[i, 4 * n:] == 0).all()
    with pytest.raises(InvalidInputError, match="trailing"):
        tok.decode(torch.tensor([[1, -1, 2]]))
    with pytest.raises(InvalidInputError, match="codes"):
        tok.decode(torch.tensor([[1, 16]]))


def test_decode_is_denormalised(tok):
    codes = torch.tensor([[3, 1, 4, 1]])
    normalised = tok.model.decode(codes)
    assert torch.allclose(tok.decode(codes), normalised * tok.normalizer.std + tok.normalizer.mean)


def _walking_joints(frames: int, seed: int) -> torch.Tensor:
    """Rest pose swaying and drifting forward: (frames, 52, 3) metres, feet above the floor."""
    skeleton = default_rest_skeleton()
    rest = np.zeros((52, 3))
    for j, parent in enumerate(skeleton.parents):
        rest[j] = skeleton.offsets[j] + (rest[parent] if parent >= 0 else 0.0)
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None] / 30.0
    sway = 0.05 * np.sin(2 * np.pi * (t * rng.uniform(0.5, 2.0, (1, 52, 3)) + rng.uniform(0, 1, (1, 52, 3))))
    joints = rest[None] + sway + np.array([0.0, 1.0, 0.0]) + t * np.array([0.0, 0.0, 0.5])
    return torch.as_tensor(joints, dtype=torch.float32)


def test_encode_joints_uses_the_tokenizer_skeleton(tok):
    joints = torch.stack([_walking_joints(21, 0), _walking_joints(21, 1)])
    expected = tok.encode(joints_to_features(joints[0], target=tok.target_skeleton, fps=30.0, compat=True))
    assert torch.equal(tok.encode_joints(joints[0], fps=30.0), expected)
    batched = tok.encode_joints(joints, lengths=[21, 13])
    assert torch.equal(batched[0], expected)
    assert torch.equal(batched[1, :3], tok.encode_joints(joints[1, :13]))
    assert (batched[1, 3:] == -1).all()
    with pytest.raises(InvalidInputError, match="fps"):
        tok.encode_joints(joints[0], fps=24.0)
    recovered = tok.features_to_joints(tok.decode(expected))
    assert recovered.shape == (20, 52, 3)
