"""LSLM: a Hugging Face causal LM that reads sign motion through a frozen motion tokenizer.

    codes (B, L) ──codebook──▶ (B, L, code_dim) ──projector──▶ (B, L, H)
    input_ids (B, S) with L placeholders per row ──embeddings──▶ (B, S, H) ◀── masked_scatter

Mode "vocab" (MotionGPT baseline) skips the projector: codes are ordinary vocabulary tokens
`<motion_id_k>`, and the model can also write them (text → motion).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from lslm.checks import check_bool, check_int, check_number, check_numeric, check_str, read_json
from lslm.errors import CheckpointMismatchError, ConfigError, InvalidInputError
from lslm.model.collate import MotionTextCollator, PromptEncoder, codes_list
from lslm.model.config import LSLMConfig
from lslm.model.projector import MotionProjector
from lslm.model.templates import CAPTION_PLACEHOLDER, TemplateSet
from lslm.model.tokens import MOTION_PLACEHOLDER, add_motion_tokens, check_token_ids
from lslm.model_folder import check_finite, load_safetensors
from lslm.atomic import write_dir_atomic

if TYPE_CHECKING:
    from transformers.modeling_outputs import CausalLMOutputWithPast

    from lslm.tokenizer import Tokenizer

CONFIG_NAME = "lslm_config.json"
TOKENS_NAME = "special_tokens.json"
PROJECTOR_NAME = "projector.safetensors"
ADDED_EMBEDDINGS_NAME = "added_embeddings.safetensors"


def _torch_dtype(name: str):
    return name if name == "auto" else getattr(torch, name)


class LSLM(nn.Module):
    """LLM + motion projector + frozen motion tokenizer (docs/model.md).

    Build with `LSLM(config, llm, text_tokenizer, motion_tokenizer)` from objects you already have,
    `LSLM.from_config(config, motion_tokenizer)` to load the LLM by name, or `LSLM.from_pretrained(dir)`.
    """

    def __init__(self, config: LSLMConfig, llm, text_tokenizer, motion_tokenizer, adapter_dir: str | Path | None = None):
        super().__init__()
        K, D = motion_tokenizer.config.codebook_size, motion_tokenizer.config.code_dim
        if (config.codebook_size, config.code_dim) not in ((None, None), (K, D)):
            raise CheckpointMismatchError(
                f"motion tokenizer has codebook_size={K}, code_dim={D}; the config expects "
                f"codebook_size={config.codebook_size}, code_dim={config.code_dim}")
        self.config = dataclasses.replace(config, codebook_size=K, code_dim=D)
        self.text_tokenizer = text_tokenizer
        self.motion_tokenizer = motion_tokenizer  # a plain object: frozen, not in parameters() or state_dict()
        self.token_ids = add_motion_tokens(text_tokenizer, K if config.mode == "vocab" else None)
        self.added_ids = list(range(self.token_ids["start"], len(text_tokenizer)))
        if len(text_tokenizer) > llm.get_input_embeddings().num_embeddings:  # Qwen2.5 has spare rows: no resize
            llm.resize_token_embeddings(len(text_tokenizer))
        if llm.generation_config.pad_token_id is None:
            llm.generation_config.pad_token_id = text_tokenizer.pad_token_id
        self.register_buffer("codebook", motion_tokenizer.codebook.detach().clone().float(), persistent=False)
        hidden = llm.config.get_text_config().hidden_size
        norm = None
        if config.projector_norm == "embedding":  # the mean norm of the LLM's own vocabulary rows
            norm = float(llm.get_input_embeddings().weight[:self.token_ids["start"]].detach().float().norm(dim=-1).mean())
        self.projector = MotionProjector(D, hidden, config.projector_act, norm) if config.mode == "projector" else None
        self.llm = self._with_lora(llm, adapter_dir) if config.lora is not None else llm
        self.encoder = PromptEncoder(text_tokenizer, self.token_ids, config.mode, K, config.chat_template)

    def _with_lora(self, llm, adapter_dir: str | Path | None):
        """Wrap the LLM in peft LoRA; the added tokens' embedding rows train with the adapters."""
        from peft import LoraConfig, PeftModel, get_peft_model

        if adapter_dir is not None:
            llm = PeftModel.from_pretrained(llm, str(adapter_dir), is_trainable=True)
        else:
            lora = self.config.lora
            llm = get_peft_model(llm, LoraConfig(
                r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, use_rslora=lora.rslora,
                target_modules=list(lora.target_modules), trainable_token_indices=self._embedding_rows(llm),
                task_type="CAUSAL_LM"))
        self._adapter_names = {n for n, p in llm.named_parameters() if p.requires_grad}
        return llm

    def _embedding_rows(self, llm) -> dict[str, list[int]]:
        """{module name: added ids} for the input embeddings and an untied output layer."""
        layers = [llm.get_input_embeddings(), llm.get_output_embeddings()]
        if layers[1] is None or layers[1].weight is layers[0].weight:
            layers = layers[:1]
        names = {id(module): name for name, module in llm.named_modules()}
        return {names[id(layer)].rsplit(".", 1)[-1]: self.added_ids for layer in layers}

    @classmethod
    def from_config(cls, config: LSLMConfig, motion_tokenizer: Tokenizer) -> LSLM:
        """Load the LLM and its tokenizer by name or path (`config.llm`) and build the model."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        llm = _load_hf(AutoModelForCausalLM.from_pretrained, config.llm, "a Hugging Face causal LM (name or folder)",
                       dtype=_torch_dtype(config.dtype))
        text_tokenizer = _load_hf(AutoTokenizer.from_pretrained, config.llm, "a Hugging Face tokenizer (name or folder)")
        return cls(config, llm, text_tokenizer, motion_tokenizer)

    # ---- parameter groups -------------------------------------------------------------------
    def projector_parameters(self) -> list[nn.Parameter]:
        """The projector's parameters (empty in vocab mode)."""
        return [] if self.projector is None else list(self.projector.parameters())

    def llm_parameters(self) -> list[nn.Parameter]:
        """The LLM parameters that can train: all of them, or with LoRA the adapters and added-token rows."""
        if self.config.lora is None:
            return list(self.llm.parameters())
        return [p for n, p in self.llm.named_parameters() if n in self._adapter_names]

    def set_trainable(self, projector: bool, llm: bool) -> None:
        """Freeze / unfreeze the two groups (schemes mlp, joint, staged; instruction tuning llm, mlp+llm)."""
        for p in self.llm.parameters():
            p.requires_grad_(False)
        for p in self.llm_parameters():
            p.requires_grad_(llm)
        for p in self.projector_parameters():
            p.requires_grad_(projector)

    def collator(self, pad_to_multiple_of: int | None = None) -> MotionTextCollator:
        """A collate function `(clips, templates) → batch` (`lslm.tokenizer.CodedClip`s) matching this model's tokens
        and mode."""
        return MotionTextCollator(self.encoder, pad_to_multiple_of)

    # ---- forward ----------------------------------------------------------------------------
    def embed(self, input_ids: torch.Tensor, codes: torch.Tensor | None = None) -> torch.Tensor:
        """Input embeddings (B, S, H) with the projected motion written at the placeholder positions."""
        embeds = self.llm.get_input_embeddings()(input_ids)  # (B, S, H)
        if self.projector is None:
            if codes is not None:
                raise InvalidInputError(None, "codes", "None in vocab mode (codes are tokens of input_ids)",
                                        got=tuple(codes.shape))
            return embeds
        slots = input_ids == self.token_ids["placeholder"]  # (B, S)
        if codes is None:
            codes = input_ids.new_full((input_ids.shape[0], 0), -1)
        if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
            raise InvalidInputError(None, "codes", "an integer tensor (B, L)", got=codes.dtype)
        K = self.codebook.shape[0]
        if ((codes < -1) | (codes >= K)).any():  # one reduction: forward's hot path
            raise InvalidInputError(None, "codes", f"codes in [0, {K}), -1 for padding",
                                    got=f"values from {int(codes.min())} to {int(codes.max())}")
        valid = codes >= 0  # (B, L)
        n_slots, n_codes = slots.sum(1), valid.sum(1)
        if not torch.equal(n_slots, n_codes):
            raise InvalidInputError(None, "codes", "as many codes as motion placeholder tokens in each row "
                                    f"(motion features and motion tokens do not match: tokens "
                                    f"{n_slots.tolist()}, codes {n_codes.tolist()})", got=tuple(codes.shape))
        motion = self.projector(self.codebook[codes[valid]])  # (N, H), row-major like the slots
        return embeds.masked_scatter(slots.unsqueeze(-1).expand_as(embeds), motion.to(embeds.dtype))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                codes: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                alignment_weight: float = 0.0, alignment_temperature: float = 0.07,
                **kwargs: Any) -> CausalLMOutputWithPast:
        """The LLM's output (`.loss` when labels are given, `.logits` (B, S, V)).

        alignment_weight > 0 (projector mode, with labels) adds that multiple of `alignment_loss` to `.loss`.
        """
        out = self.llm(inputs_embeds=self.embed(input_ids, codes), attention_mask=attention_mask,
                       labels=labels, **kwargs)
        if alignment_weight > 0 and labels is not None and self.projector is not None and codes is not None:
            out.loss = out.loss + alignment_weight * self.alignment_loss(codes, labels, alignment_temperature)
        return out

    def alignment_loss(self, codes: torch.Tensor, labels: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
        """Symmetric InfoNCE between each clip's mean projected motion and the mean input embedding of its
        answer's tokens (labels other than −100 and EOS), the other clips of the batch as negatives: the
        contrastive term of sign-language-bridge alignment. codes (B, L) padded with −1, labels (B, S)."""
        valid = (codes >= 0).unsqueeze(-1)                                          # (B, L, 1)
        motion = self.projector(self.codebook[codes.clamp_min(0)])                  # (B, L, H)
        motion = (motion * valid).sum(1) / valid.sum(1).clamp_min(1)                # (B, H)
        answer = ((labels != -100) & (labels != self.text_tokenizer.eos_token_id)).unsqueeze(-1)  # (B, S, 1)
        words = self.llm.get_input_embeddings()(labels.clamp_min(0))                # (B, S, H)
        text = (words * answer).sum(1) / answer.sum(1).clamp_min(1)                 # (B, H)
        logits = nn.functional.normalize(motion, dim=-1) @ nn.functional.normalize(text, dim=-1).T / temperature
        target = torch.arange(len(logits), device=logits.device)
        return (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target)) / 2

    # ---- generation -------------------------------------------------------------------------
    def _clip_codes(self, motion: Any, codes: Any, lengths: Any, fps: float | None) -> tuple[list[list[int]], bool]:
        """Codes of each clip as lists, and whether a single clip was given."""
        if (motion is None) == (codes is None):
            raise InvalidInputError(None, "motion/codes", "exactly one of motion (features or joints) and codes",
                                    got="both" if motion is not None else "neither")
        K = self.config.codebook_size
        if codes is not None:
            if lengths is not None or fps is not None:
                raise InvalidInputError(None, "lengths" if lengths is not None else "fps",
                                        "None with codes (they go to the motion tokenizer)",
                                        got=lengths if lengths is not None else fps)
            if isinstance(codes, (list, tuple)) and codes and all(_is_code(c) for c in codes):
                return [codes_list(list(codes), K)], True  # one clip's codes as a list of ints
            if not isinstance(codes, (list, tuple)):
                codes = check_numeric(codes, None, "codes", integer=True)  # a tensor or an array
                if codes.ndim == 1:
                    return [codes_list(codes, K)], True
                if codes.ndim != 2:
                    raise InvalidInputError(None, "codes", "(L,), (B, L) padded with -1, or a list of clips",
                                            got=tuple(codes.shape))
            elif not all(isinstance(c, (list, tuple)) or hasattr(c, "ndim") for c in codes):
                raise InvalidInputError(None, "codes", "one clip's integer codes, or a list of clips (each a "
                                        "sequence of integers)", got=repr(list(codes))[:80])
            clips = [codes_list(c, K) for c in codes]
        elif isinstance(motion, (list, tuple)):
            if lengths is not None:
                raise InvalidInputError(None, "lengths", "None with a list of clips (each clip is its own length)",
                                        got=lengths)
            clips = []
            for m in motion:
                clip, single = self._clip_codes(m, None, None, fps)
                if not single:
                    raise InvalidInputError(None, "motion", "a list of single clips: features (T, D) or joints "
                                            "(T, J, 3)", got=tuple(np.shape(m)))
                clips += clip
        else:
            return self._encode_motion(motion, lengths, fps)
        if not clips:
            raise InvalidInputError(None, "motion" if codes is None else "codes", "at least one clip", got="none")
        return clips, False

    def _encode_motion(self, motion: Any, lengths: Any, fps: float | None) -> tuple[list[list[int]], bool]:
        """Codes of features (T, D) / (B, T, D) or joints (T, J, 3) / (B, T, J, 3), and whether unbatched."""
        K = self.config.codebook_size
        x = torch.as_tensor(check_numeric(motion, None, "motion"), dtype=torch.float32)
        tok = self.motion_tokenizer.to(self.codebook.device)
        J = tok.target_skeleton.num_joints
        if x.ndim in (2, 3) and x.shape[-1] == tok.config.feature_dim:
            if fps is not None:
                raise InvalidInputError(None, "fps", "None with features (the frame rate of joints)", got=fps)
            single, encoded = x.ndim == 2, tok.encode(x, lengths=lengths)
        elif x.ndim in (3, 4) and tuple(x.shape[-2:]) == (J, 3):
            single, encoded = x.ndim == 3, tok.encode_joints(x, fps=fps, lengths=lengths)
        else:
            raise InvalidInputError(None, "motion", f"features (…, T, {tok.config.feature_dim}) or joints "
                                    f"(…, T, {J}, 3)", got=tuple(x.shape))
        encoded = encoded.reshape(-1, encoded.shape[-1]).cpu()
        return [codes_list(c, K) for c in encoded], single

    def _llm_generate(self, rows: list[list[int]], codes: list[list[int]] | None, **generation_kwargs) -> torch.Tensor:
        """New token ids (B, N) for prompt rows (and their motion codes in projector mode).

        The rows of a batch share the prompt text before the motion (chat header, instruction). Its keys
        and values are computed once and copied to every row: the batch is laid out
        [shared prefix | left padding | rest of the row] and position ids follow the attention mask, so
        each row costs only its own tokens and the outputs are those of plain left padding.
        """
        limit = getattr(self.llm.config.get_text_config(), "max_position_embeddings", None)
        longest = max(len(r) for r in rows)
        if limit is not None and longest >= limit:
            raise InvalidInputError(None, "codes" if codes is not None else "prompt",
                                    f"prompt and motion of fewer than {limit} tokens (the LLM's context)",
                                    got=f"{longest} tokens")
        config = self._generation_config(generation_kwargs)
        # a preallocated cache (cache_implementation) cannot take the shared prefix's cache: plain left padding
        own_cache = generation_kwargs.get("cache_implementation", config.cache_implementation)
        P = 0 if own_cache else self._shared_prefix_length(rows)
        S = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), S), self.text_tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(len(rows), S, dtype=torch.long)
        for b, r in enumerate(rows):
            input_ids[b, :P], input_ids[b, S - len(r) + P:] = torch.tensor(r[:P]), torch.tensor(r[P:])
            attention_mask[b, :P] = attention_mask[b, S - len(r) + P:] = 1
        batch_codes = None
        if codes is not None:
            batch_codes = torch.full((len(codes), max(map(len, codes))), -1, dtype=torch.long)
            for b, c in enumerate(codes):
                batch_codes[b, : len(c)] = torch.tensor(c)
        device = self.codebook.device
        embeds = self.embed(input_ids.to(device), None if batch_codes is None else batch_codes.to(device))  # (B, S, H)
        if P:
            from transformers import DynamicCache

            decoder, cache = self.llm.get_decoder(), DynamicCache(config=self.llm.config)
            keyword = _cache_keyword(decoder)
            decoder(inputs_embeds=embeds[:1, :P], use_cache=True, **{keyword: cache})
            cache.batch_repeat_interleave(len(rows) * self._rows_per_prompt(generation_kwargs))
            generation_kwargs[keyword] = cache
        return self.llm.generate(inputs_embeds=embeds, attention_mask=attention_mask.to(device),
                                 **generation_kwargs)  # (B, N): only new tokens with inputs_embeds

    def _shared_prefix_length(self, rows: list[list[int]]) -> int:
        """Tokens all rows start with, before any motion slot and leaving each row one token (0 for one row)."""
        if len(rows) == 1:
            return 0
        shortest = min(len(r) for r in rows) - 1
        placeholder = self.token_ids["placeholder"]
        for i, column in enumerate(zip(*rows)):
            if i == shortest or column[0] == placeholder or column.count(column[0]) != len(column):
                return i
        return shortest

    def _generation_config(self, generation_kwargs: dict):
        """The GenerationConfig generate starts from: the caller's, else the LLM's."""
        return generation_kwargs.get("generation_config") or self.llm.generation_config

    def _text_generation_options(self, generation_kwargs: dict, max_new_tokens: int) -> dict:
        """`generation_kwargs` checked (`check_generation_options`), with `max_new_tokens` set unless the
        caller limits the length (max_new_tokens, max_length or a generation_config of their own); outputs
        with scores are refused (text comes back)."""
        check_generation_options(generation_kwargs)
        config = self._generation_config(generation_kwargs)
        if generation_kwargs.get("return_dict_in_generate", config.return_dict_in_generate):
            raise InvalidInputError(None, "return_dict_in_generate", "False: LSLM returns text; for scores call "
                                    "model.llm.generate(inputs_embeds=model.embed(...))", got=True)
        if not {"max_new_tokens", "max_length", "generation_config"} & generation_kwargs.keys():
            generation_kwargs["max_new_tokens"] = max_new_tokens
        return generation_kwargs

    def _rows_per_prompt(self, generation_kwargs: dict) -> int:
        """How many rows `transformers` generate makes of each prompt: beams, or returned sequences."""
        config = self._generation_config(generation_kwargs)
        beams = generation_kwargs.get("num_beams", config.num_beams) or 1
        return beams if beams > 1 else generation_kwargs.get("num_return_sequences", config.num_return_sequences) or 1

    @torch.no_grad()
    def generate(self, motion: Any = None, codes: Any = None, prompt: str | None = None,
                 lengths: Any = None, fps: float | None = None, **generation_kwargs: Any) -> str | list[str]:
        """Translate motion to text.

        motion: raw features (T, 623) / (B, T, 623), joints (T, 52, 3) / (B, T, 52, 3), or a list of
            clips (tokenised with the model's own motion tokenizer; `lengths`, `fps` go to it);
        codes: (L,), (B, L) padded with −1, or a list of code sequences.
        prompt: text holding one `<Motion_Placeholder>` (default: config.prompt, else the placeholder alone).
        generation_kwargs go to `transformers` generate (num_beams, length_penalty, no_repeat_ngram_size,
        repetition_penalty, max_new_tokens (default 64 unless max_length or a generation_config is given), …).
        Returns one string for one clip, else a list; with num_return_sequences=n, n strings per clip, clip
        after clip. Bad motion, codes, prompt or options raise InvalidInputError before any generation.
        """
        if prompt is not None:
            check_str(prompt, None, "prompt")
        clips, single = self._clip_codes(motion, codes, lengths, fps)
        prompt = prompt or self.config.prompt or MOTION_PLACEHOLDER
        generation_kwargs = self._text_generation_options(generation_kwargs, 64)
        out = self._llm_generate([self.encoder.encode(prompt, c, is_prompt=True) for c in clips],
                                 clips if self.projector is not None else None, **generation_kwargs)
        texts = [t.strip() for t in self.text_tokenizer.batch_decode(out, skip_special_tokens=True)]
        return texts[0] if single and len(texts) == 1 else texts

    @torch.no_grad()
    def generate_motion(self, text: str | Sequence[str], prompt: str | None = None,
                        **generation_kwargs: Any) -> torch.Tensor | list[torch.Tensor]:
        """Text → motion codes (L,) long (vocab mode): decode them with `motion_tokenizer.decode`.

        prompt: text holding `<Caption_Placeholder>` (default: the first instruct "t2m" template).
        The answer is started with `<Motion_Start>`; the codes are the motion tokens generated before
        the first other token (an empty tensor when the model writes none). max_new_tokens defaults to 256
        (unless max_length or a generation_config is given), eos_token_id to `<Motion_End>` and the text
        end. Returns one tensor for one text, else a list (n per text with num_return_sequences=n).
        """
        if self.config.mode != "vocab":
            raise ConfigError("generate_motion needs LSLMConfig.mode = 'vocab' (the projector cannot write motion)")
        single = isinstance(text, str)
        texts = [text] if single else list(text) if isinstance(text, (list, tuple)) else None
        if not texts or not all(isinstance(t, str) for t in texts):
            raise InvalidInputError(None, "text", "a string or a non-empty list of strings", got=repr(text)[:80])
        for t in texts:
            check_str(t, None, "text", empty=True)
        if prompt is not None:
            check_str(prompt, None, "prompt")
        template = TemplateSet.load("instruct").default("t2m")
        if prompt is not None:
            if CAPTION_PLACEHOLDER not in prompt:
                raise InvalidInputError(None, "prompt", f"text holding {CAPTION_PLACEHOLDER}", got=prompt)
            template = dataclasses.replace(template, input=prompt)
        rows = [self.encoder.encode(template.fill(text=t)[0], None, is_prompt=True) + [self.token_ids["start"]]
                for t in texts]
        generation_kwargs = self._text_generation_options(generation_kwargs, 256)
        generation_kwargs.setdefault("eos_token_id", [self.token_ids["end"], self.text_tokenizer.eos_token_id])
        out = self._llm_generate(rows, None, **generation_kwargs).cpu()
        K, offset = self.config.codebook_size, self.token_ids["code_offset"]
        results = []
        for row in out:
            is_code = (row >= offset) & (row < offset + K)
            n = int(is_code.long().cumprod(0).sum())
            results.append(row[:n] - offset)
        return results[0] if single and len(results) == 1 else results

    # ---- persistence ------------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the model folder (safetensors only) atomically: temp folder, then rename.

            lslm_config.json, special_tokens.json, projector.safetensors (projector mode),
            llm/ (HF weights, or the LoRA adapter), added_embeddings.safetensors (LoRA: the added
            tokens' rows of the resized base), text_tokenizer/, tokenizer/ (the motion tokenizer).
        """
        def write(tmp: Path) -> None:
            (tmp / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n", encoding="utf-8")
            (tmp / TOKENS_NAME).write_text(json.dumps(self.token_ids, indent=2) + "\n", encoding="utf-8")
            if self.projector is not None:
                save_file({k: v.detach().cpu().contiguous() for k, v in self.projector.state_dict().items()},
                          str(tmp / PROJECTOR_NAME))
            if self.config.lora is not None:
                save_file(self._added_rows(self.llm.get_base_model()), str(tmp / ADDED_EMBEDDINGS_NAME))
            self.llm.save_pretrained(str(tmp / "llm"))
            self.text_tokenizer.save_pretrained(str(tmp / "text_tokenizer"))
            self.motion_tokenizer.save_pretrained(tmp / "tokenizer")

        return write_dir_atomic(directory, write)

    def _added_rows(self, llm) -> dict[str, torch.Tensor]:
        """The added tokens' rows of the input and output embeddings (not trained: the resize's random init)."""
        rows = torch.tensor(self.added_ids)
        out = {"input": llm.get_input_embeddings().weight.detach()[rows].cpu().contiguous()}
        output = llm.get_output_embeddings()
        if output is not None and output.weight is not llm.get_input_embeddings().weight:
            out["output"] = output.weight.detach()[rows].cpu().contiguous()
        return out

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str | torch.device = "cpu") -> LSLM:
        """Load a folder written by `save_pretrained` (in eval mode). Every file is checked as it is read:
        a missing, empty, corrupt or mistyped one raises InvalidInputError or ConfigError naming it, a
        tokenizer, special-token ids or weights that do not fit the config a CheckpointMismatchError."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from lslm.tokenizer import Tokenizer

        directory = Path(directory)
        for name in (CONFIG_NAME, TOKENS_NAME, "llm", "text_tokenizer", "tokenizer"):
            if not (directory / name).exists():
                raise InvalidInputError(directory / name, "file", "an LSLM folder written by save_pretrained",
                                        got="missing")
        config_path = directory / CONFIG_NAME
        try:
            config = LSLMConfig.from_dict(read_json(config_path, "an LSLM config"))
        except ConfigError as err:
            raise ConfigError(str(err), path=config_path) from err
        saved_ids = _read_token_ids(directory / TOKENS_NAME, config.mode)
        if config.lora is not None:
            for path in (directory / "llm" / "adapter_config.json", directory / ADDED_EMBEDDINGS_NAME):
                if not path.is_file():
                    raise InvalidInputError(config_path, "lora", "null for a model saved without LoRA (its "
                                            "adapter files are missing)", got=f"{config.lora}; no {path}")
        motion_tokenizer = Tokenizer.from_pretrained(directory / "tokenizer")
        text_tokenizer = _load_hf(AutoTokenizer.from_pretrained, directory / "text_tokenizer",
                                  "a Hugging Face tokenizer folder")
        dtype = _torch_dtype(config.dtype)
        if config.lora is None:
            llm = _load_hf(AutoModelForCausalLM.from_pretrained, directory / "llm", "a Hugging Face model folder",
                           dtype=dtype)
            if len(text_tokenizer) > llm.get_input_embeddings().num_embeddings:
                raise CheckpointMismatchError(f"the text tokenizer has {len(text_tokenizer)} entries, the LLM's "
                                              f"embeddings {llm.get_input_embeddings().num_embeddings} rows",
                                              path=directory / "llm")
        else:
            llm = _load_hf(AutoModelForCausalLM.from_pretrained, config.llm, "the base LLM named by the config's "
                           "llm (a Hugging Face name or folder)", dtype=dtype, where=config_path)
            if len(text_tokenizer) > llm.get_input_embeddings().num_embeddings:
                llm.resize_token_embeddings(len(text_tokenizer))
            cls._load_added_rows(llm, directory / ADDED_EMBEDDINGS_NAME, saved_ids["start"])
        try:
            model = cls(config, llm, text_tokenizer, motion_tokenizer,
                        adapter_dir=directory / "llm" if config.lora is not None else None)
        except CheckpointMismatchError as err:
            raise err if err.path else CheckpointMismatchError(str(err), path=config_path) from err
        except InvalidInputError as err:  # the text tokenizer holds only some motion tokens
            raise err if err.path else InvalidInputError(directory / "text_tokenizer", err.field, err.expected,
                                                         got=err.got) from err
        except Exception as err:  # noqa: BLE001 — peft reading a broken adapter: a file error, named as such
            raise InvalidInputError(directory / "llm", "adapter", "a peft LoRA adapter saved with this model",
                                    got=f"{type(err).__name__}: {str(err)[:200]}") from err
        check_token_ids(saved_ids, model.token_ids, str(directory / TOKENS_NAME))
        if model.projector is not None:
            path = directory / PROJECTOR_NAME
            if not path.is_file():
                raise InvalidInputError(path, "file", "the projector of a projector-mode model", got="missing")
            state = load_safetensors(path)
            check_finite(state, path)
            try:
                model.projector.load_state_dict(state, strict=True)
            except RuntimeError as err:
                raise CheckpointMismatchError(str(err), path=path) from err
        return model.to(device).eval()

    @staticmethod
    def _load_added_rows(llm, path: Path, first_id: int) -> None:
        rows = load_safetensors(path)
        for key, layer in (("input", llm.get_input_embeddings()), ("output", llm.get_output_embeddings())):
            if key in rows:
                n = rows[key].shape[0]
                if rows[key].dim() != 2 or first_id + n > layer.weight.shape[0] or \
                        rows[key].shape[1] != layer.weight.shape[1]:
                    raise CheckpointMismatchError(f"{key} rows {tuple(rows[key].shape)} do not fit "
                                                  f"the base LLM's embeddings {tuple(layer.weight.shape)}", path=path)
                check_finite({key: rows[key]}, path)
                with torch.no_grad():
                    layer.weight[first_id:first_id + n] = rows[key].to(layer.weight.dtype)


def _read_token_ids(path: Path, mode: str) -> dict[str, int]:
    """special_tokens.json: {"start", "end", "pad", "placeholder"} (and "code_offset" in vocab mode) ids."""
    ids = read_json(path, "the motion token ids of an LSLM folder")
    keys = {"start", "end", "pad", "placeholder"} | ({"code_offset"} if mode == "vocab" else set())
    if set(ids) != keys or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ids.values()):
        raise InvalidInputError(path, "json", f"non-negative integer ids of {sorted(keys)}", got=repr(ids)[:80])
    return ids


def _load_hf(load, source: str | Path, what: str, where: str | Path | None = None, **kwargs):
    """`load(source)` (a transformers from_pretrained) with its errors, whatever their type (OSError,
    ValueError, JSON, safetensors, tokenizers...), as an InvalidInputError naming the folder."""
    try:
        return load(str(source), **kwargs)
    except Exception as err:  # noqa: BLE001 — a library reading a file: every failure is a bad input
        raise InvalidInputError(where or source, "llm" if where else "folder", f"{what} ({source})",
                                got=f"{type(err).__name__}: {str(err)[:200]}") from err


# Generation options LSLM checks itself (transformers would cast, ignore or fail deep inside on them):
# name → (kind, smallest allowed value).
_INT_OPTIONS = {"max_new_tokens": 1, "max_length": 1, "min_new_tokens": 0, "min_length": 0, "num_beams": 1,
                "num_beam_groups": 1, "num_return_sequences": 1, "no_repeat_ngram_size": 0, "top_k": 0}
_FLOAT_OPTIONS = {"temperature": 0.0, "top_p": 0.0, "min_p": 0.0, "typical_p": 0.0, "repetition_penalty": 0.0,
                  "length_penalty": None, "diversity_penalty": 0.0, "epsilon_cutoff": 0.0, "eta_cutoff": 0.0}
_BOOL_OPTIONS = ("do_sample", "use_cache", "output_scores", "output_logits", "return_dict_in_generate",
                 "remove_invalid_values", "renormalize_logits")
_SET_BY_LSLM = ("inputs", "input_ids", "inputs_embeds", "attention_mask", "past_key_values", "cache")


def _cache_keyword(decoder: nn.Module) -> str:
    """The keyword a transformers decoder (and its generate) takes a KV cache by: `cache` in recent releases,
    which deprecate `past_key_values`; `past_key_values` in those before."""
    import inspect

    return "cache" if "cache" in inspect.signature(decoder.forward).parameters else "past_key_values"


def _is_code(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


@functools.lru_cache(maxsize=1)
def _generation_option_names() -> tuple[frozenset[str], frozenset[str]]:
    """(GenerationConfig fields, every keyword transformers' generate takes)."""
    import inspect

    from transformers import GenerationConfig, GenerationMixin

    fields = frozenset(GenerationConfig().to_dict())
    return fields, fields | frozenset(inspect.signature(GenerationMixin.generate).parameters) - {"self", "kwargs"}


def check_generation_options(options: dict) -> None:
    """Check generation options for `LSLM.generate` before any work is done: refuse unknown options, the
    inputs LSLM sets itself, and counts or numbers of the wrong type or range, before transformers sees
    them; the rest is GenerationConfig's own validation."""
    import copy

    from transformers import GenerationConfig

    config_fields, known = _generation_option_names()
    for key, value in options.items():
        if key in _SET_BY_LSLM:
            raise InvalidInputError(None, key, "not given: LSLM builds the LLM's inputs from motion and prompt",
                                    got=type(value).__name__)
        if key not in known:
            raise InvalidInputError(None, key, "a transformers generation option (GenerationConfig field)",
                                    got="unknown option")
        if value is None:
            continue
        if key in _INT_OPTIONS:
            check_int(value, None, key, minimum=_INT_OPTIONS[key])
        elif key in _FLOAT_OPTIONS:
            number = check_number(value, None, key, minimum=_FLOAT_OPTIONS[key])
            if key in ("temperature", "repetition_penalty") and number <= 0:
                raise InvalidInputError(None, key, "a number > 0", got=value)
            if key in ("top_p", "min_p", "typical_p") and number > 1:
                raise InvalidInputError(None, key, "a number in [0, 1]", got=value)
        elif key in _BOOL_OPTIONS:
            check_bool(value, None, key)
    given = options.get("generation_config")
    if given is not None and not isinstance(given, GenerationConfig):
        raise InvalidInputError(None, "generation_config", "a transformers GenerationConfig", got=type(given).__name__)
    config_keys = {k: v for k, v in options.items() if k in config_fields}
    try:
        copy.deepcopy(given or GenerationConfig()).update(**config_keys)
    except (ValueError, TypeError) as err:
        raise InvalidInputError(None, "generation options", "options GenerationConfig accepts",
                                got=str(err).splitlines()[0][:200]) from err
