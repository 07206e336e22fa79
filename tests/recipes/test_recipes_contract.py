"""The recipes' contract: importing any `lslm.recipes.<name>` (and its --help) loads no torch, transformers or
mediapipe (heavy imports wait for `run`), and every recipe has `build_parser`, `main`, `run` and a one-line
description."""
from __future__ import annotations

import ast
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import lslm.recipes

REPO = Path(__file__).resolve().parents[2]
STAGES = ("motion", "data", "tokenizer", "model", "eval", "viz", "video", "training")
HEAVY = ("torch", "transformers", "mediapipe", "deepspeed", "matplotlib", "gradio")
RECIPES = sorted(m.name for m in pkgutil.iter_modules(lslm.recipes.__path__) if not m.name.startswith("_"))

# Recipes imported one after the other in one interpreter: the first one whose import (or parser) loads a
# heavy library is named with it (the ones before it are clean, so it is the one that loaded it).
PROBE = """
import importlib, json, sys
out = {{}}
for name in {names!r}:
    try:
        importlib.import_module("lslm.recipes." + name).main(["--help"])  # what `lslm VERB --help` runs
    except SystemExit:
        pass
    except Exception as err:
        out[name] = repr(err)
        break
    out[name] = sorted(h for h in {heavy!r} if h in sys.modules)
    if out[name]:
        break
print(json.dumps(out))
"""


def test_every_runnable_module_is_a_recipe():
    """Each verb's recipe exists, and the stage packages neither parse argv nor reach into a recipe."""
    expected = {"ablate", "app", "demo", "diagnose", "encode", "estimate", "eval_landmarks", "eval_tokenizer",
                "evaluate", "instruct", "mesh", "prepare", "pretrain", "produce", "render", "sweep_codebook",
                "synthetic", "train_base_lm", "train_evaluator", "train_tokenizer", "translate"}
    assert set(RECIPES) == expected
    argparse_users = []
    for path in (p for stage in STAGES for p in (REPO / "lslm" / stage).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        if "argparse" in names or any(n.startswith("lslm.recipes") for n in names):
            argparse_users.append(str(path.relative_to(REPO)))
    assert argparse_users == []


# The stage packages from the bottom up: each imports only those before it (and the shared modules at the
# top of lslm: errors, checks, atomic, lazy, devices, assets, model_folder, and the training toolbox).
LAYERS = ("motion", "video", "data", "tokenizer", "model", "eval", "viz")
TOOLBOX = ("training",)


def _lslm_imports(path: Path) -> set[str]:
    """The lslm packages (second name component) a module imports, type-checking imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level]
    return {n.split(".")[1] for n in names if n.startswith("lslm.") and n.count(".") >= 1}


def test_stage_packages_import_only_the_layers_below():
    upward = []
    for layer, stage in enumerate(LAYERS):
        allowed = set(LAYERS[:layer + 1]) | set(TOOLBOX)
        for path in (REPO / "lslm" / stage).rglob("*.py"):
            bad = {n for n in _lslm_imports(path) if n in (*LAYERS, *TOOLBOX, "recipes", "app") and n not in allowed}
            upward += [f"{path.relative_to(REPO)} -> lslm.{n}" for n in sorted(bad)]
    for path in (REPO / "lslm" / "training").rglob("*.py"):  # the toolbox sits below every stage
        upward += [f"{path.relative_to(REPO)} -> lslm.{n}" for n in sorted(_lslm_imports(path) & {*LAYERS, "recipes"})]
    assert upward == []


def test_importing_a_recipe_and_its_help_load_no_heavy_library():
    """What `import lslm.recipes.X; X.main(["--help"])` pulls in, in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY, names=RECIPES)], capture_output=True,
                            text=True, env=env, timeout=120, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == {name: [] for name in RECIPES}


def test_every_recipe_has_the_three_entry_points_and_a_description():
    for name in RECIPES:
        module = __import__(f"lslm.recipes.{name}", fromlist=["run"])
        for entry in ("build_parser", "main", "run"):
            assert callable(getattr(module, entry, None)), f"lslm.recipes.{name}.{entry}"
        assert list(inspect.signature(module.main).parameters) == ["argv"], name
        first_line = (ast.get_docstring(ast.parse(Path(module.__file__).read_text(encoding="utf-8"))) or "")
        assert first_line.split("\n")[0].strip().endswith((".", ")")), f"lslm.recipes.{name}: {first_line[:80]!r}"


def test_literal_defaults_match_the_library():
    """Values a recipe repeats so that its import stays torch-free agree with the library's."""
    from lslm.data.prepare import prepare
    from lslm.data.synthetic.generate import SIZES
    from lslm.recipes import prepare as prepare_recipe
    from lslm.recipes import synthetic

    assert synthetic.SIZES == tuple(SIZES)
    library = {k: p.default for k, p in inspect.signature(prepare).parameters.items()
               if p.default is not inspect.Parameter.empty}
    config = prepare_recipe.PrepareConfig("lslm", "in", "out")
    library["split_csvs"] = tuple(library["split_csvs"])
    assert {k: getattr(config, k) for k in library if k != "workers"} == {k: v for k, v in library.items()
                                                                          if k != "workers"}
