"""The `lslm` command: one verb per recipe, `lslm VERB [options]` (docs/cli.md).

    lslm --help                      every verb with its one-line description
    lslm --version
    lslm train-tokenizer --config configs/tokenizer/synthetic.yaml data.root=DIR output_dir=DIR
    lslm pretrain --scheme joint --config configs/lslm/synthetic.yaml …
    python -m lslm VERB …            the same, without the console script

`lslm VERB ARGS` calls `<module>.main(ARGS)` of the verb's recipe module and exits with its code, so a verb
takes exactly the options of its `tools/<name>.py` wrapper. Nothing here imports a recipe before it runs:
the module is resolved when the verb is called (importlib), and `lslm --help` reads each description, the
first sentence of the module docstring, from the source file (ast), so help imports no torch.
"""
from __future__ import annotations

import ast
import difflib
import importlib
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

# verb → recipe module (a tuple: a later name would be a fallback while a recipe moves; none does now).
VERBS: dict[str, tuple[str, ...]] = {
    "demo": ("lslm.recipes.demo",),
    "synthetic": ("lslm.recipes.synthetic",),
    "prepare": ("lslm.recipes.prepare",),
    "train-tokenizer": ("lslm.recipes.train_tokenizer",),
    "eval-tokenizer": ("lslm.recipes.eval_tokenizer",),
    "train-evaluator": ("lslm.recipes.train_evaluator",),
    "train-base-lm": ("lslm.recipes.train_base_lm",),
    "pretrain": ("lslm.recipes.pretrain",),
    "instruct": ("lslm.recipes.instruct",),
    "ablate": ("lslm.recipes.ablate",),
    "sweep-codebook": ("lslm.recipes.sweep_codebook",),
    "encode": ("lslm.recipes.encode",),
    "translate": ("lslm.recipes.translate",),
    "evaluate": ("lslm.recipes.evaluate",),
    "render": ("lslm.recipes.render",),
    "estimate": ("lslm.recipes.estimate",),
    "eval-landmarks": ("lslm.recipes.eval_landmarks",),
    "diagnose": ("lslm.recipes.diagnose",),
    "produce": ("lslm.recipes.produce",),
    "mesh": ("lslm.recipes.mesh",),
    "app": ("lslm.recipes.app",),
}

PACKAGE = Path(__file__).resolve().parent


def source_file(module: str) -> Path | None:
    """The source file of an `lslm.…` module, found without importing it or its parent packages
    (a stage package's `__init__` may import torch), or None when there is none."""
    head, *parts = module.split(".")
    if head != "lslm":
        return None
    path = PACKAGE.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def resolve(verb: str) -> str:
    """The module that runs `verb`: the first of its names whose source exists (KeyError for no verb)."""
    names = VERBS[verb]
    return next((name for name in names if source_file(name) is not None), names[0])


def first_sentence(docstring: str) -> str:
    """A module docstring's first sentence as a one-line description: "Recipe: train the tokenizer (…).
    More." → "Train the tokenizer (…)"; a leading "`command`: " label is dropped too."""
    paragraph = " ".join(docstring.split("\n\n", 1)[0].split())
    paragraph = paragraph.removeprefix("Recipe: ")
    if paragraph.startswith("`") and "`: " in paragraph:
        paragraph = paragraph.split("`: ", 1)[1]
    end = paragraph.find(". ")
    sentence = (paragraph if end < 0 else paragraph[:end]).rstrip(".")
    return sentence[:1].upper() + sentence[1:]


def describe(verb: str) -> str:
    """The one-line description of `verb`, read from its module's source without importing it."""
    path = source_file(resolve(verb))
    if path is None:
        return "(module not found)"
    return first_sentence(ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), str(path))) or "")


def version() -> str:
    """lslm's version: the installed distribution's, else the package's `__version__`."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version
    try:
        return dist_version("lslm")
    except PackageNotFoundError:
        from lslm import __version__
        return __version__


def usage() -> str:
    """The text of `lslm --help`: every verb with its description, in pipeline order."""
    width = max(map(len, VERBS))
    lines = [textwrap.fill(describe(verb), 100, initial_indent=f"  {verb:<{width}}  ",
                           subsequent_indent=" " * (width + 4)) for verb in VERBS]
    return "\n".join([
        "usage: lslm [--help] [--version] VERB [options]",
        "",
        "Large Sign Language Models: 3D sign motion ↔ English through a motion tokenizer and an LLM.",
        "",
        "verbs:",
        *lines,
        "",
        "`lslm VERB --help` lists a verb's options; docs/cli.md shows the pipeline end to end.",
    ])


def unknown(verb: str) -> str:
    """The message for a verb lslm does not have: the closest verb, if any, and the list of all."""
    close = difflib.get_close_matches(verb, list(VERBS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"lslm: unknown verb '{verb}'.{hint}\nverbs: {', '.join(VERBS)}\n(`lslm --help` describes them)"


def run_verb(verb: str, argv: Sequence[str]) -> int:
    """Import the verb's module and run its `main(argv)`; its return value becomes the exit code
    (an int as is; None, or a result such as a run folder or a metrics dict, is success)."""
    module = importlib.import_module(resolve(verb))
    saved = sys.argv
    sys.argv = [f"lslm {verb}", *argv]  # argparse's default prog: "usage: lslm train-tokenizer …"
    try:
        result = module.main(list(argv))
    finally:
        sys.argv = saved
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """`lslm [--help | --version | VERB [options]]`; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(usage(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"lslm {version()}")
        return 0
    verb, *rest = argv
    if verb not in VERBS:
        print(unknown(verb), file=sys.stderr)
        return 2
    return run_verb(verb, rest)


def _alias(verb: str):
    """A console script of lslm 0.1 (`lslm-prepare`, …): the same as `lslm VERB`."""
    def script() -> int:
        return main([verb, *sys.argv[1:]])
    script.__name__ = script.__qualname__ = f"{verb.replace('-', '_')}_script"
    script.__doc__ = f"`lslm-{verb}`: the same as `lslm {verb}`."
    return script


prepare_script = _alias("prepare")
synthetic_script = _alias("synthetic")
render_script = _alias("render")
evaluate_script = _alias("evaluate")
produce_script = _alias("produce")
app_script = _alias("app")

if __name__ == "__main__":
    sys.exit(main())
