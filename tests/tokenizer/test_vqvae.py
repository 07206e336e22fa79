"""VQ-VAE model, quantizers and losses (tiny configs)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from lslm.errors import ConfigError
from lslm.motion import feature_layout
from lslm.tokenizer import VQVAE, TokenizerConfig, VQVAEOutput, vqvae_loss
from lslm.tokenizer.vqvae import ResidualBlock

TINY = {"feature_dim": 623, "num_joints": 52, "width": 32, "code_dim": 16, "codebook_size": 16}


def tiny(**overrides) -> TokenizerConfig:
    return TokenizerConfig(**{**TINY, **overrides})


@pytest.mark.parametrize("quantizer", ["ema", "vq"])
def test_forward_shapes(quantizer):
    torch.manual_seed(0)
    model = VQVAE(tiny(quantizer=quantizer))
    out = model(torch.randn(2, 16, 623))
    assert out.recon.shape == (2, 16, 623)
    assert out.codes.shape == (2, 4) and out.codes.dtype == torch.long
    assert out.commit_loss.ndim == 0 and out.perplexity.ndim == 0
    assert 1.0 <= float(out.perplexity) <= 8.0                      # 8 codes in the batch at most
    model.eval()
    codes = model.encode(torch.randn(3, 32, 623))
    assert codes.shape == (3, 8)
    assert model.decode(codes).shape == (3, 32, 623)


def test_architecture_follows_t2m_gpt_layout():
    model = VQVAE(TokenizerConfig())
    dilations = [m.conv1.dilation[0] for m in model.encoder.modules() if isinstance(m, ResidualBlock)]
    assert dilations == [9, 3, 1, 9, 3, 1]
    strided = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv1d) and m.stride[0] == 2]
    assert len(strided) == 2 and model.downsample == 4
    assert model.quantizer.codebook.shape == (1024, 512)
    assert VQVAE(tiny(down_t=3)).encode(torch.randn(1, 32, 623)).shape == (1, 4)


def test_masked_batch_equals_clips_alone():
    torch.manual_seed(0)
    model = VQVAE(tiny()).eval()
    lengths = torch.tensor([16, 8, 12])
    x = torch.randn(3, 16, 623)
    x[1, 8:] = 50.0                                                 # padding content must not leak in
    with torch.no_grad():
        latents = model.encode_latents(x, lengths)
        unmasked = model.encode_latents(x)
        vectors = torch.randn(3, 4, 16)
        decoded = model.decoder(vectors.transpose(1, 2), lengths // 4).transpose(1, 2)
        for i, n in enumerate(lengths.tolist()):
            alone = model.encode_latents(x[i:i + 1, :n])[0]
            assert torch.allclose(latents[i, : n // 4], alone, atol=1e-5)
            assert (latents[i, n // 4:] == 0).all()
            alone = model.decoder(vectors[i:i + 1, : n // 4].transpose(1, 2)).transpose(1, 2)[0]
            assert torch.allclose(decoded[i, :n], alone, atol=1e-5)
            assert (decoded[i, n:] == 0).all()
        # without the mask the padded clips would see their neighbours' frames
        assert not torch.allclose(unmasked[1, :2], latents[1, :2], atol=1e-3)
        assert torch.equal(model.encode(x, lengths)[1], torch.tensor([*model.encode(x[1:2, :8])[0], -1, -1]))


def test_bad_shapes_and_config():
    with pytest.raises(ValueError, match="multiple of 4"):
        VQVAE(tiny())(torch.randn(1, 18, 623))
    with pytest.raises(ConfigError, match="unknown keys"):
        TokenizerConfig.from_dict({**TINY, "codebook": 3})
    with pytest.raises(ConfigError, match="quantizer"):
        tiny(quantizer="fsq")
    assert TokenizerConfig.from_dict(tiny().to_dict()) == tiny()


def _fake_output(recon: torch.Tensor) -> VQVAEOutput:
    return VQVAEOutput(recon=recon, codes=torch.zeros(1, 1, dtype=torch.long), commit_loss=torch.tensor(0.5),
                       perplexity=torch.tensor(1.0))


def test_velocity_loss_sees_only_the_velocity_block():
    # T2M-GPT issue #48: the reference "velocity" loss slices the position block; ours must not.
    torch.manual_seed(0)
    x = torch.randn(2, 8, 623)
    recon = torch.randn(2, 8, 623, requires_grad=True)
    losses = vqvae_loss(x, _fake_output(recon), tiny(recon_loss="l1"))
    losses["velocity"].backward()
    velocities = feature_layout(52)["velocities"]
    inside = torch.zeros(623, dtype=torch.bool)
    inside[velocities] = True
    assert velocities == slice(463, 619)
    assert (recon.grad[..., ~inside] == 0).all()
    assert (recon.grad[..., inside] != 0).all()
    assert torch.allclose(losses["velocity"], F.l1_loss(recon[..., 463:619], x[..., 463:619]))


def test_total_loss_weights_and_mask():
    torch.manual_seed(0)
    cfg = tiny(velocity_weight=0.5, commit_weight=0.02)
    x, recon = torch.randn(2, 8, 623), torch.randn(2, 8, 623)
    losses = vqvae_loss(x, _fake_output(recon), cfg)
    assert torch.allclose(losses["recon"], F.smooth_l1_loss(recon, x))
    assert torch.allclose(losses["total"], losses["recon"] + 0.5 * losses["velocity"] + 0.02 * 0.5)
    # padded frames (mask False) do not count: changing them leaves the loss unchanged
    mask = torch.tensor([[True] * 8, [True] * 5 + [False] * 3])
    masked = vqvae_loss(x, _fake_output(recon), cfg, mask=mask)
    recon2 = recon.clone()
    recon2[1, 5:] += 100.0
    assert torch.equal(masked["total"], vqvae_loss(x, _fake_output(recon2), cfg, mask=mask)["total"])
    valid = torch.cat([recon[0], recon[1, :5]]), torch.cat([x[0], x[1, :5]])
    assert torch.allclose(masked["recon"], F.smooth_l1_loss(*valid))


def test_hand_weight_weighs_the_finger_joints_features():
    from lslm.motion import Skeleton
    from lslm.tokenizer.losses import feature_weights

    assert feature_weights(tiny()) is None
    w = feature_weights(tiny(hand_weight=3.0))
    names = Skeleton.smplx52().names  # which joint each feature belongs to, from the layout by hand
    owner = [None] * 4 + [names[1 + i // 3] for i in range(51 * 3)] + [names[1 + i // 6] for i in range(51 * 6)] \
        + [names[i // 3] for i in range(52 * 3)] + [None] * 4
    finger = torch.tensor([o is not None and o.startswith(("left_", "right_")) and o.split("_")[1] not in
                           ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist") for o in owner])
    assert int(finger.sum()) == 30 * 12 and w.mean().item() == pytest.approx(1.0)
    assert torch.allclose(w[finger], 3 * w[~finger][0]) and torch.all(w[~finger] == w[~finger][0])
    torch.manual_seed(0)
    x, recon = torch.randn(2, 8, 623), torch.randn(2, 8, 623)
    losses = vqvae_loss(x, _fake_output(recon), tiny(hand_weight=3.0, recon_loss="l1"))
    assert torch.allclose(losses["recon"], ((recon - x).abs() * w).mean())


def test_ema_codebook_initialised_from_data_without_global_rng():
    torch.manual_seed(0)
    model = VQVAE(tiny())
    x = torch.randn(4, 32, 623)                                     # 32 latent vectors ≥ 16 codes
    rng = torch.random.get_rng_state()
    model(x)
    assert torch.equal(rng, torch.random.get_rng_state())           # resets use their own generator
    with torch.no_grad():
        latents = model.encode_latents(x).reshape(-1, 16)
    q = model.quantizer
    # every code starts as one of the batch's encoder outputs; the EMA moved it at most by 1 − decay
    dist_to_batch = torch.cdist(q.codebook, latents).min(1).values
    assert bool(q.initialised) and int(q.steps) == 1
    assert (dist_to_batch < 0.05 * latents.norm(dim=1).mean()).all()


def _train(model, batches, lr=1e-3):
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for x in batches:
        loss = vqvae_loss(x, model(x), model.config)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return opt


@pytest.mark.parametrize("quantizer", ["ema", "vq"])
def test_resume_is_bit_exact(quantizer):
    torch.manual_seed(0)
    batches = [torch.randn(2, 16, 623) for _ in range(4)]
    straight = VQVAE(tiny(quantizer=quantizer, dead_code_threshold=2.0))
    resumed = copy.deepcopy(straight)
    _train(straight, batches)
    opt = _train(resumed, batches[:2])
    state, opt_state = copy.deepcopy(resumed.state_dict()), copy.deepcopy(opt.state_dict())
    torch.manual_seed(123)                                          # a resumed process has another RNG
    fresh = VQVAE(tiny(quantizer=quantizer, dead_code_threshold=2.0))
    fresh.load_state_dict(state)
    opt = torch.optim.AdamW(fresh.parameters(), lr=1e-3)
    opt.load_state_dict(opt_state)
    for x in batches[2:]:
        loss = vqvae_loss(x, fresh(x), fresh.config)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    for (name, a), b in zip(straight.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name


def test_dead_codes_are_reset():
    torch.manual_seed(0)
    model = VQVAE(tiny(dead_code_threshold=1.0))
    x = torch.randn(2, 16, 623)
    model(x)
    q = model.quantizer
    q.cluster_size[:4] = 0.0                                        # codes 0..3 unused for a long time
    before = q.codebook[:4].clone()
    model(x)
    assert (q.cluster_size[:4] == 1.0).all()
    assert not torch.equal(q.codebook[:4], before)


def test_eq2_beta_weights_commitment_only():
    """Paper eq. 2: the codebook term has weight 1, the commitment term β (gradient sums −β : 1)."""
    torch.manual_seed(0)
    model = VQVAE(tiny(quantizer="vq", beta=0.25))
    z = torch.randn(2, 8, 16, requires_grad=True)
    out = model.quantizer(z)
    out.loss.backward()
    assert torch.allclose(z.grad.sum((0, 1)), -0.25 * model.quantizer.codebook.grad.sum(0), atol=1e-6)


def test_vector_quantize_pytorch_ties_beta():
    """Why we do not wrap vector-quantize-pytorch: its learnable codebook cannot give eq. 2 with β ≠ 1
    (one weight on ‖quantize − z‖² moves codebook and encoder alike), and its dead-code reset draws
    from the global RNG."""
    vqp = pytest.importorskip("vector_quantize_pytorch")
    torch.manual_seed(0)
    vq = vqp.VectorQuantize(dim=4, codebook_size=8, learnable_codebook=True, ema_update=False,
                            commitment_weight=0.25).train()
    z = torch.randn(1, 32, 4, requires_grad=True)
    _, _, loss = vq(z)
    loss.backward()
    codebook_grad = vq._codebook.embed.grad.reshape(-1, 4).sum(0)
    assert torch.allclose(z.grad.sum((0, 1)), -codebook_grad, atol=1e-6)        # ratio 1, not β
    ema = vqp.VectorQuantize(dim=4, codebook_size=8, threshold_ema_dead_code=2).train()
    ema(torch.randn(1, 32, 4))
    rng = torch.random.get_rng_state()
    ema(torch.randn(1, 32, 4))
    assert not torch.equal(rng, torch.random.get_rng_state())


def _distributed_worker(rank: int, world: int, init_file: str, results: mp.SimpleQueue) -> None:
    torch.set_num_threads(1)                                        # two ranks on two cores: no spinning
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.manual_seed(0)                                            # same initial weights everywhere
    model = VQVAE(tiny(dead_code_threshold=2.0))
    torch.manual_seed(1 + rank)                                     # different data on each rank
    for _ in range(3):
        model(torch.randn(2, 16, 623))
    q = model.quantizer
    # numpy pickles by value (a tensor would travel as a shared-memory handle, gone when the rank exits)
    results.put((rank, q.codebook.numpy(), q.cluster_size.numpy(), q.embed_sum.numpy()))
    dist.destroy_process_group()


def test_ema_codebooks_stay_identical_across_ranks(tmp_path):
    results = mp.get_context("spawn").SimpleQueue()
    workers = mp.start_processes(_distributed_worker, args=(2, str(tmp_path / "init"), results), nprocs=2,
                                 start_method="spawn", join=False)
    states = {r: tensors for r, *tensors in (results.get(), results.get())}
    while not workers.join():
        pass
    for a, b in zip(states[0], states[1]):
        np.testing.assert_array_equal(a, b)
    # and the ranks really saw different data: alone, they would disagree
    torch.manual_seed(0)
    alone = VQVAE(tiny(dead_code_threshold=2.0))
    torch.manual_seed(2)
    for _ in range(3):
        alone(torch.randn(2, 16, 623))
    assert not np.array_equal(alone.quantizer.codebook.numpy(), states[1][0])
