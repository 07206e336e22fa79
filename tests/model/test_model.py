"""LSLM: splice of projected motion, answer-only loss, generation, parameter groups, LoRA, vocab mode."""
import pytest
import torch
from torch import nn

from lslm.errors import ConfigError, InvalidInputError
from lslm.model import IGNORE_INDEX, LSLM, LoraSettings, LSLMConfig, TemplateSet
from lslm.model.collate import PRETRAIN_M2T
from lslm.tokenizer import CodedClip

INSTRUCT = TemplateSet.load("instruct")
CLIPS = [CodedClip("a", (3, 1, 4), "thank you"), CodedClip("b", (5, 9, 2, 6, 5, 3, 5), "hello how are you"),
         CodedClip("c", (8, 9), "my name is sam")]
TEMPLATES = [INSTRUCT.default("m2t"), INSTRUCT.default("m2t"), PRETRAIN_M2T]


def rest_walk_joints(frames: int, seed: int = 0) -> torch.Tensor:
    """(T, 52, 3) joints: the rest skeleton with smooth per-joint wobble and a forward walk."""
    from lslm.motion import default_rest_skeleton
    from lslm.motion.kinematics import forward_kinematics

    skeleton = default_rest_skeleton()
    offsets = torch.as_tensor(skeleton.offsets, dtype=torch.float32)[None]
    rest = forward_kinematics(torch.eye(3).expand(1, 52, 3, 3), offsets, skeleton.parents)[0]
    t = torch.arange(frames, dtype=torch.float32)[:, None, None] / 30
    phase = torch.rand(1, 52, 3, generator=torch.Generator().manual_seed(seed)) * 6.28
    walk = torch.stack([torch.zeros_like(t[..., 0]), torch.zeros_like(t[..., 0]), 0.5 * t[..., 0]], -1)
    return rest + 0.03 * torch.sin(4 * t + phase) + walk


def test_splice_writes_projected_codebook_vectors(build_model):
    model = build_model()
    batch = model.collator()(CLIPS, TEMPLATES)
    embeds = model.embed(batch["input_ids"], batch["codes"])
    plain = model.llm.get_input_embeddings()(batch["input_ids"])
    codebook = model.motion_tokenizer.codebook
    slots = batch["input_ids"] == model.token_ids["placeholder"]
    for row, pair in enumerate(CLIPS):
        expected = model.projector(codebook[torch.tensor(pair.codes)])
        torch.testing.assert_close(embeds[row][slots[row]], expected)
        torch.testing.assert_close(embeds[row][~slots[row]], plain[row][~slots[row]])


def test_projector_norm_puts_motion_at_the_word_embeddings_scale(build_model, tmp_path):
    words = build_model().llm.get_input_embeddings().weight
    model = build_model(projector_norm="embedding")
    start = model.token_ids["start"]
    target = words[:start].detach().norm(dim=-1).mean()  # the words' mean norm, motion rows left out
    plain = build_model().projector(model.codebook)      # same seed, same weights, unscaled
    scaled = model.projector(model.codebook)             # (K, H)
    torch.testing.assert_close(scaled.norm(dim=-1), target.expand(len(scaled)))
    torch.testing.assert_close(nn.functional.normalize(scaled, dim=-1), nn.functional.normalize(plain, dim=-1))
    assert plain.norm(dim=-1).mean() > 3 * target        # what the option corrects
    with torch.no_grad():  # the scale is the one trained with, not the LLM's embeddings at load time
        model.llm.get_input_embeddings().weight.mul_(5)
    model.save_pretrained(tmp_path / "ckpt")
    loaded = LSLM.from_pretrained(tmp_path / "ckpt")
    assert float(loaded.projector.target_norm) == pytest.approx(float(target))
    with pytest.raises(ConfigError, match="projector_norm"):
        LSLMConfig(llm="tiny", projector_norm="layer")


def test_code_and_placeholder_counts_must_agree(build_model):
    model = build_model()
    batch = model.collator()(CLIPS[:2], TEMPLATES[:2])
    swapped = batch["codes"].flip(0)  # same total, wrong rows
    with pytest.raises(InvalidInputError, match="do not match: tokens \\[3, 7\\], codes \\[7, 3\\]"):
        model(batch["input_ids"], batch["attention_mask"], swapped)


def test_loss_is_cross_entropy_over_answer_tokens_only(build_model, text_tokenizer):
    model = build_model()
    batch = model.collator()(CLIPS, TEMPLATES)
    loss = model(**batch).loss
    logits = model(batch["input_ids"], batch["attention_mask"], batch["codes"]).logits
    targets = batch["labels"][:, 1:]
    scored = targets != IGNORE_INDEX
    log_probs = logits[:, :-1].log_softmax(-1)
    by_hand = -log_probs[scored].gather(1, targets[scored][:, None]).mean()
    torch.testing.assert_close(loss, by_hand)
    answers = sum(len(text_tokenizer(p.text, add_special_tokens=False)["input_ids"]) + 1 for p in CLIPS)
    assert int(scored.sum()) == answers


def test_batched_greedy_generation_equals_one_clip_at_a_time(trained):
    model = trained
    codes = [p.codes for p in CLIPS]
    prompt = INSTRUCT.default("m2t").input
    batched = model.generate(codes=codes, prompt=prompt, max_new_tokens=8)
    single = [model.generate(codes=torch.tensor(c), prompt=prompt, max_new_tokens=8) for c in codes]
    assert isinstance(single[0], str) and batched == single
    assert len(set(single)) > 1  # the motion changes the output


def test_every_form_of_one_clip_gives_one_string(trained):
    """A tensor, an array or a list of ints is one clip; a list of lists is a batch; n sequences per clip."""
    import numpy as np

    model, c = trained, CLIPS[1].codes
    one = model.generate(codes=torch.tensor(c), max_new_tokens=6)
    assert isinstance(one, str)
    assert model.generate(codes=np.array(c), max_new_tokens=6) == one
    assert model.generate(codes=list(c), max_new_tokens=6) == one
    assert model.generate(codes=[list(c)], max_new_tokens=6) == [one]
    beams = model.generate(codes=torch.tensor(c), max_new_tokens=6, num_beams=2, num_return_sequences=2)
    assert isinstance(beams, list) and len(beams) == 2


def test_length_limits_of_the_caller_are_kept(trained, monkeypatch):
    from transformers import GenerationConfig

    seen = []
    generate = trained.llm.generate
    monkeypatch.setattr(trained.llm, "generate", lambda **kw: seen.append(kw) or generate(**kw))
    codes = torch.tensor(CLIPS[0].codes)
    trained.generate(codes=codes)
    trained.generate(codes=codes, max_length=80)
    trained.generate(codes=codes, generation_config=GenerationConfig(max_new_tokens=3, do_sample=False))
    assert [kw.get("max_new_tokens") for kw in seen] == [64, None, None]
    with pytest.raises(InvalidInputError, match="return_dict_in_generate"):
        trained.generate(codes=codes, return_dict_in_generate=True)


def test_a_preallocated_cache_works_in_a_batch(trained):
    """cache_implementation="static" cannot take the shared prompt's cache: the batch is plainly left-padded."""
    codes = [p.codes for p in CLIPS]
    static = trained.generate(codes=codes, max_new_tokens=6, cache_implementation="static")
    assert static == trained.generate(codes=codes, max_new_tokens=6)


def test_bad_motion_and_codes_name_the_field(trained):
    features = torch.randn(2, 24, 623)
    with pytest.raises(InvalidInputError, match="'lengths'"):  # a list of clips: each is its own length
        trained.generate(motion=[features[0], features[1]], lengths=[24, 8])
    with pytest.raises(InvalidInputError, match="single clips"):
        trained.generate(motion=[features])
    with pytest.raises(InvalidInputError, match="at least one clip"):
        trained.generate(motion=[])
    batch = trained.collator()(CLIPS, TEMPLATES)
    batch["codes"][0, 0] = 16  # the codebook has 16 codes
    with pytest.raises(InvalidInputError, match="'codes'.*16"):
        trained(**batch)


def test_shared_prompt_prefix_scores_like_plain_left_padding(trained, monkeypatch):
    """The batch reuses one pass over the prompt text before the motion: the scores of every step equal
    those of plain left padding (the prefix computed in every row), for greedy and beam search."""
    model = trained
    rows = [model.encoder.encode(INSTRUCT.default("m2t").input, p.codes, is_prompt=True) for p in CLIPS]
    prefix = model._shared_prefix_length(rows)
    assert rows[0][prefix] == model.token_ids["placeholder"] and prefix > 3  # chat header + instruction
    codes = [p.codes for p in CLIPS]
    for kwargs in ({}, {"num_beams": 3}):
        gen = {"max_new_tokens": 6, "min_new_tokens": 6, "output_scores": True, "return_dict_in_generate": True,
               **kwargs}
        shared = model._llm_generate(rows, codes, **gen)
        with monkeypatch.context() as m:
            m.setattr(model, "_shared_prefix_length", lambda rows: 0)
            plain = model._llm_generate(rows, codes, **gen)
        assert torch.equal(shared.sequences, plain.sequences)
        for a, b in zip(shared.scores, plain.scores):
            finite = b.isfinite()
            assert torch.equal(a.isfinite(), finite)
            torch.testing.assert_close(a[finite], b[finite], atol=1e-4, rtol=1e-4)
    sampled = model._llm_generate(rows, codes, do_sample=True, num_return_sequences=2, max_new_tokens=2)
    assert sampled.shape[0] == 2 * len(rows)  # the shared prefix is copied to every returned sequence


def test_shared_prefix_stops_at_the_motion_and_leaves_every_row_a_token(build_model):
    model = build_model()
    slot = model.token_ids["placeholder"]
    assert model._shared_prefix_length([[1, 2, slot, 5], [1, 2, slot, 5]]) == 2
    assert model._shared_prefix_length([[1, 2, 3], [1, 2, 4, 5]]) == 2
    assert model._shared_prefix_length([[1, 2], [1, 2, 3]]) == 1
    assert model._shared_prefix_length([[1, 2, 3]]) == 0  # one row: nothing to share


def test_batched_beam_search_equals_one_clip_at_a_time(trained):
    prompt = INSTRUCT.default("m2t").input
    codes = [p.codes for p in CLIPS]
    batched = trained.generate(codes=codes, prompt=prompt, max_new_tokens=8, num_beams=3)
    assert batched == [trained.generate(codes=torch.tensor(c), prompt=prompt, max_new_tokens=8, num_beams=3)
                       for c in codes]


def test_generate_tokenises_features_and_joints_with_its_own_tokenizer(build_model):
    model = build_model()
    feats = torch.randn(2, 24, 623, generator=torch.Generator().manual_seed(0))
    codes = model.motion_tokenizer.encode(feats, lengths=[24, 13])  # 6 and 3 codes
    assert model.generate(motion=feats, lengths=[24, 13], max_new_tokens=6) == \
        model.generate(codes=codes, max_new_tokens=6)
    joints = rest_walk_joints(21)
    assert model.generate(motion=joints, max_new_tokens=6) == \
        model.generate(codes=model.motion_tokenizer.encode_joints(joints), max_new_tokens=6)
    with pytest.raises(InvalidInputError, match="features"):
        model.generate(motion=torch.zeros(10, 52, 4))
    with pytest.raises(InvalidInputError, match="exactly one"):
        model.generate()


def overfit(model, clips, templates, steps):
    model.set_trainable(projector=True, llm=True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-2)
    batch = model.collator()(clips, templates)
    for _ in range(steps):
        optimizer.zero_grad()
        model(**batch).loss.backward()
        optimizer.step()
    return model.eval()


@pytest.fixture(scope="module")
def trained(build_model):
    """A projector-mode model overfitted on CLIPS (joint scheme)."""
    return overfit(build_model(), CLIPS, TEMPLATES, steps=60)


def test_trained_model_translates_its_training_pairs(trained):
    model = trained
    texts = model.generate(codes=[p.codes for p in CLIPS], prompt=INSTRUCT.default("m2t").input,
                           max_new_tokens=12)
    assert texts[:2] == ["thank you", "hello how are you"]


def test_parameter_groups_and_schemes(build_model):
    model = build_model()
    projector, llm = model.projector_parameters(), model.llm_parameters()
    assert {id(p) for p in projector} | {id(p) for p in llm} == {id(p) for p in model.parameters()}
    assert not {id(p) for p in projector} & {id(p) for p in llm}
    batch = model.collator()(CLIPS, TEMPLATES)
    for use_projector, use_llm in ((True, False), (False, True), (True, True)):  # mlp, staged step 2, joint
        model.zero_grad(set_to_none=True)
        model.set_trainable(projector=use_projector, llm=use_llm)
        model(**batch).loss.backward()
        assert all((p.grad is not None) == use_projector for p in projector)
        assert all((p.grad is not None) == use_llm for p in llm)


def test_lora_trains_only_adapters_added_rows_and_projector(build_model):
    model = build_model(lora=LoraSettings(r=4, alpha=8, dropout=0.0, rslora=True))
    model.set_trainable(projector=True, llm=True)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or "trainable_tokens" in n or n.startswith("projector.")
                             for n in trainable)
    assert any("lora_A" in n for n in trainable) and any("trainable_tokens" in n for n in trainable)
    q_proj = model.llm.get_base_model().model.layers[0].self_attn.q_proj
    assert q_proj.scaling["default"] == pytest.approx(8 / 4 ** 0.5)  # rsLoRA: alpha / sqrt(r)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    overfit(model, CLIPS, TEMPLATES, steps=2)
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)
    model.set_trainable(projector=True, llm=False)
    assert all(n.startswith("projector.") for n, p in model.named_parameters() if p.requires_grad)


def test_vocab_mode_reads_and_writes_motion(build_model):
    model = build_model(mode="vocab")
    assert model.projector is None and model.projector_parameters() == []
    t2m = INSTRUCT.default("t2m")
    clips = [CodedClip("a", (7, 0, 15, 3), "my name is sam"), CodedClip("b", (2, 2, 9), "thank you"),
             CodedClip("a", (7, 0, 15, 3), "my name is sam")]
    overfit(model, clips, [t2m, t2m, PRETRAIN_M2T], steps=60)
    codes = model.generate_motion(["my name is sam", "thank you"], max_new_tokens=8)
    assert [c.tolist() for c in codes] == [[7, 0, 15, 3], [2, 2, 9]]
    features = model.motion_tokenizer.decode(codes[0])
    assert features.shape == (4 * 4, 623)
    assert model.generate(codes=torch.tensor([7, 0, 15, 3]), max_new_tokens=12) == "my name is sam"
    with pytest.raises(ConfigError, match="vocab"):
        build_model().generate_motion("hello")
    with pytest.raises(InvalidInputError, match="Caption_Placeholder"):  # the text would be ignored
        model.generate_motion("thank you", prompt="Sign this sentence.")


def test_alignment_loss_is_infonce_of_pooled_motion_and_answer_embeddings(build_model, text_tokenizer):
    model = build_model()
    batch = model.collator()(CLIPS, TEMPLATES)
    embeddings, eos = model.llm.get_input_embeddings().weight, text_tokenizer.eos_token_id
    motion, text = [], []
    for row, pair in enumerate(CLIPS):  # one clip at a time, from the pairs themselves
        motion.append(model.projector(model.codebook[torch.tensor(pair.codes)]).mean(0))
        words = text_tokenizer(pair.text, add_special_tokens=False)["input_ids"]
        assert eos not in words
        text.append(embeddings[torch.tensor(words)].mean(0))
    motion = torch.nn.functional.normalize(torch.stack(motion), dim=-1)
    text = torch.nn.functional.normalize(torch.stack(text), dim=-1)
    logits = motion @ text.T / 0.5
    by_hand = -(logits.log_softmax(1).diagonal().mean() + logits.log_softmax(0).diagonal().mean()) / 2
    torch.testing.assert_close(model.alignment_loss(batch["codes"], batch["labels"], 0.5), by_hand)
    plain = model(**batch).loss
    torch.testing.assert_close(model(**batch, alignment_weight=0.3, alignment_temperature=0.5).loss,
                               plain + 0.3 * by_hand)
    model.set_trainable(projector=True, llm=False)  # scheme mlp: the term trains the projector
    model.alignment_loss(batch["codes"], batch["labels"]).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.projector_parameters())
