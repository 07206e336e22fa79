"""Prompt templates in MotionGPT's JSON layout (paper listing 1).

    {"Motion-to-Text": {"caption": {"class": "m2t",
                                    "input": ["Translate … <Motion_Placeholder> to English.", …],
                                    "held_out_input": [… phrasings used only for evaluation …],
                                    "output": ["<Caption_Placeholder>"]}}, …}

Classes: "m2t" motion → English, "m2g" motion → gloss, "t2m" English → motion (vocabulary mode only).
`<Motion_Placeholder>` marks where the motion goes (expanded to start, one token per code, end when a
pair is tokenised); `<Caption_Placeholder>` / `<Gloss_Placeholder>` are replaced by the pair's
English text / gloss. Bundled sets: assets/templates/pretrain.json and instruct.json.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lslm.assets import asset_path
from lslm.errors import InvalidInputError
from lslm.model.tokens import MOTION_PLACEHOLDER

CAPTION_PLACEHOLDER = "<Caption_Placeholder>"
GLOSS_PLACEHOLDER = "<Gloss_Placeholder>"
TASK_CLASSES = ("m2t", "m2g", "t2m")
TEMPLATES_DIR = asset_path("templates")


@dataclass(frozen=True)
class Template:
    """One prompt (input) and the answer it asks for (output), both with placeholders."""

    task: str
    input: str
    output: str
    held_out: bool = False

    def fill(self, text: str | None = None, gloss: str | None = None) -> tuple[str, str]:
        """(prompt, answer) with the caption and gloss placeholders replaced; the motion one stays."""
        filled = []
        for part in (self.input, self.output):
            for placeholder, value, field in ((CAPTION_PLACEHOLDER, text, "text"), (GLOSS_PLACEHOLDER, gloss, "gloss")):
                if placeholder in part:
                    if value is None:
                        raise InvalidInputError(None, field, f"a string for template {part!r}", got=None)
                    part = part.replace(placeholder, value)
            filled.append(part)
        return filled[0], filled[1]


class TemplateSet:
    """All templates of one JSON file, by task class, training and held-out phrasings apart."""

    def __init__(self, templates: list[Template], source: str = "<memory>"):
        self.source = source
        self._templates = templates

    @classmethod
    def load(cls, name_or_path: str | Path) -> TemplateSet:
        """"pretrain" / "instruct" (the bundled sets) or a path to a JSON file in the layout above."""
        path = TEMPLATES_DIR / f"{name_or_path}.json" if str(name_or_path) in ("pretrain", "instruct") \
            else Path(name_or_path)
        try:
            groups = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise InvalidInputError(path, "json", "a readable JSON template file", got=str(err)) from err
        templates = []
        for group_name, group in groups.items():
            for sub_name, sub in group.items():
                field = f"{group_name}.{sub_name}"
                if sub.get("class") not in TASK_CLASSES:
                    raise InvalidInputError(path, f"{field}.class", f"one of {TASK_CLASSES}", got=sub.get("class"))
                if not sub.get("input") or not sub.get("output"):
                    raise InvalidInputError(path, field, "non-empty 'input' and 'output' lists", got=sorted(sub))
                for held_out, key in ((False, "input"), (True, "held_out_input")):
                    for prompt in sub.get(key, []):
                        for answer in sub["output"]:
                            if (MOTION_PLACEHOLDER in prompt) == (MOTION_PLACEHOLDER in answer):
                                raise InvalidInputError(path, f"{field}.{key}", "the motion placeholder in "
                                                        "exactly one of input and output", got=prompt)
                            templates.append(Template(sub["class"], prompt, answer, held_out))
        return cls(templates, str(path))

    def templates(self, task: str = "m2t", held_out: bool = False) -> list[Template]:
        """Training (held_out=False) or evaluation-only (held_out=True) templates of one task class."""
        found = [t for t in self._templates if t.task == task and t.held_out == held_out]
        if not found:
            kind = "held-out" if held_out else "training"
            raise InvalidInputError(self.source, task, f"at least one {kind} template", got=0)
        return found

    def default(self, task: str = "m2t") -> Template:
        """The first training template of a task class (the default prompt of generation)."""
        return self.templates(task)[0]
