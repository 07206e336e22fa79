"""Typed configs: YAML + overrides merge strictly; the shipped tokenizer configs load and say how to run."""
from __future__ import annotations

from pathlib import Path

import pytest

from lslm.errors import ConfigError
from lslm.tokenizer import TokenizerConfig
from lslm.training.config import load_config, save_config
from lslm.training.deepspeed_config import load_deepspeed_json
from lslm.recipes.train_tokenizer import VQVAERunConfig
from lslm.training.schedule import lr_factor

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs" / "tokenizer"
REQUIRED = ["data.root=/data", "output_dir=/runs/x"]


@pytest.mark.parametrize("name", ["paper", "synthetic", "tiny"])
def test_shipped_configs_load_and_open_with_their_command(name):
    path = CONFIGS / f"{name}.yaml"
    first = path.read_text().splitlines()[0]
    assert first.startswith(f"# python tools/train_vqvae.py --config configs/tokenizer/{name}.yaml")
    cfg = load_config(VQVAERunConfig, path, REQUIRED + ["train.max_steps=7"])
    assert isinstance(cfg.model, TokenizerConfig)
    assert (cfg.data.root, cfg.output_dir, cfg.train.max_steps) == ("/data", "/runs/x", 7)
    assert cfg.data.window % cfg.model.downsample == 0


def test_paper_config_is_the_papers():
    cfg = load_config(VQVAERunConfig, CONFIGS / "paper.yaml", REQUIRED)
    assert (cfg.model.feature_dim, cfg.model.codebook_size, cfg.model.width, cfg.model.code_dim) == (623, 1024, 512, 512)
    assert (cfg.train.batch_size, cfg.optim.lr, cfg.data.window) == (256, 2e-4, 64)
    assert (cfg.train.max_steps, cfg.optim.warmup_steps, cfg.optim.milestones) == (300_000, 1000, [200_000])


def test_unknown_yaml_key_names_key_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  max_step: 5\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*train\.max_step"):
        load_config(VQVAERunConfig, path, REQUIRED)


def test_unknown_model_key_is_an_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  codebook: 512\n")
    with pytest.raises(ConfigError, match="model.codebook"):
        load_config(VQVAERunConfig, path, REQUIRED)


def test_overrides_are_dotted_typed_and_strict():
    cfg = load_config(VQVAERunConfig, CONFIGS / "tiny.yaml",
                      REQUIRED + ["model.codebook_size=64", "optim.milestones=[10,20]", "train.tensorboard=true"])
    assert (cfg.model.codebook_size, cfg.optim.milestones, cfg.train.tensorboard) == (64, [10, 20], True)
    with pytest.raises(ConfigError, match=r"command line.*train\.nope"):
        load_config(VQVAERunConfig, CONFIGS / "tiny.yaml", REQUIRED + ["train.nope=1"])
    with pytest.raises(ConfigError, match=r"train\.max_steps"):
        load_config(VQVAERunConfig, CONFIGS / "tiny.yaml", REQUIRED + ["train.max_steps=many"])
    with pytest.raises(ConfigError, match="key=value"):
        load_config(VQVAERunConfig, CONFIGS / "tiny.yaml", REQUIRED + ["train.max_steps"])


def test_invalid_model_value_is_a_config_error():
    with pytest.raises(ConfigError, match="quantizer"):
        load_config(VQVAERunConfig, CONFIGS / "tiny.yaml", REQUIRED + ["model.quantizer=kmeans"])


def test_mandatory_values_must_be_set():
    with pytest.raises(ConfigError, match="data.root"):
        load_config(VQVAERunConfig, CONFIGS / "tiny.yaml", ["output_dir=/runs/x"])


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(VQVAERunConfig, tmp_path / "nope.yaml")


def test_documented_config_paths_work_from_any_directory(tmp_path, monkeypatch):
    """`--config configs/…` (and a DeepSpeed JSON under configs/) resolves to lslm's own copy outside the checkout;
    a file of that name in the working directory wins; an unknown configs/ path is still an error."""
    monkeypatch.chdir(tmp_path)
    cfg = load_config(VQVAERunConfig, "configs/tokenizer/paper.yaml", REQUIRED)
    assert cfg == load_config(VQVAERunConfig, CONFIGS / "paper.yaml", REQUIRED)
    assert load_deepspeed_json("configs/deepspeed/zero3.json")["zero_optimization"]["stage"] == 3
    (tmp_path / "configs" / "tokenizer").mkdir(parents=True)
    (tmp_path / "configs" / "tokenizer" / "paper.yaml").write_text("model:\n  codebook_size: 7\n")
    assert load_config(VQVAERunConfig, "configs/tokenizer/paper.yaml", REQUIRED).model.codebook_size == 7
    with pytest.raises(ConfigError, match="configs/tokenizer/nope.yaml: config file not found"):
        load_config(VQVAERunConfig, "configs/tokenizer/nope.yaml")


def test_saved_config_reloads_to_the_same_values(tmp_path):
    cfg = load_config(VQVAERunConfig, CONFIGS / "paper.yaml", REQUIRED + ["optim.betas=[0.8,0.95]"])
    save_config(cfg, tmp_path / "config.yaml")
    assert load_config(VQVAERunConfig, tmp_path / "config.yaml") == cfg


def test_lr_schedule_warms_up_then_decays_at_milestones():
    factor = lr_factor(4, "step", milestones=[10, 20], gamma=0.1)
    # LambdaLR calls it with the number of completed steps: 0 before the first update
    assert [factor(s) for s in (0, 1, 3, 9, 10, 19, 20)] == pytest.approx([0.25, 0.5, 1, 1, 0.1, 0.1, 0.01])
    assert lr_factor(0, "step", milestones=[10], gamma=0.1)(0) == 1.0
    assert [lr_factor(0, "cosine", max_steps=4)(s) for s in (0, 2, 4, 9)] == pytest.approx([1, 0.5, 0, 0])


@pytest.mark.parametrize("name, llm", [("llama3.2-3b", "meta-llama/Llama-3.2-3B-Instruct"),
                                       ("qwen2.5-3b", "Qwen/Qwen2.5-3B-Instruct")])
def test_paper_lslm_configs_carry_the_paper_settings(name, llm):
    """Table 9 and §4.1: 8 GPUs × 16 per GPU, projector lr 1e-6, LLM lr 5e-7, DeepSpeed, bf16 on GPUs."""
    from lslm.training.deepspeed_config import fill_deepspeed_config
    from lslm.recipes.pretrain import LSLMRunConfig
    from lslm.training.engine import batch_geometry

    cfg = load_config(LSLMRunConfig, REPO / "configs" / "lslm" / f"{name}.yaml",
                      ["data.root=x", "stage=pretrain", "scheme=joint"])
    assert (cfg.model.llm, cfg.model.dtype, cfg.model.chat_template) == (llm, "bfloat16", True)
    assert (cfg.optim.lr_projector, cfg.optim.lr_llm) == (1e-6, 5e-7)
    assert batch_geometry(cfg.train, world_size=8) == (16, 1)
    ds = fill_deepspeed_config(REPO / cfg.train.deepspeed, micro_batch_size=16, gradient_accumulation_steps=1,
                               world_size=8, precision="bf16")
    assert ds["train_batch_size"] == 128 and ds["zero_optimization"]["stage"] == 2
