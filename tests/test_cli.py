"""The `lslm` command (lslm.cli): help without torch, verbs dispatched to their recipes, and the command
working from a wheel installed into a fresh virtual environment, outside the checkout."""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import types
from pathlib import Path

import pytest

from lslm import __version__, cli

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "deepspeed", "mediapipe", "gradio")
# Verbs whose module still imports torch (or more) at module level: their help is checked, not timed.
# Every recipe is light since the #15 layout (tests/recipes/test_recipes_contract.py checks them all).
NOT_YET_LIGHT: set[str] = set()
PENDING = [v for v in cli.VERBS if v in NOT_YET_LIGHT]
LIGHT = [v for v in cli.VERBS if v not in NOT_YET_LIGHT]

# Runs `lslm ARGS` in a fresh interpreter and reports, on stderr's last line, the exit code and which
# heavy packages were imported on the way.
DRIVER = f"""
import json, sys
from lslm.cli import main
verbs = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--each=")]
runs = [[v, "--help"] for v in verbs] or [sys.argv[1:]]
codes = []
for args in runs:
    try:
        codes.append(main(args))
    except SystemExit as exit:
        codes.append(exit.code)
heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(json.dumps({{"codes": codes, "heavy": heavy}}), file=sys.stderr)
"""


def lslm(*args: str, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess, dict, float]:
    """`lslm ARGS` of this checkout in a subprocess: the process, the driver's report, the wall time."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", DRIVER, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(proc.stderr.strip().splitlines()[-1]), wall


def test_help_lists_every_verb_without_torch():
    proc, report, wall = lslm("--help")
    assert report == {"codes": [0], "heavy": []}
    assert wall < 3, f"lslm --help took {wall:.1f} s"
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ") and
              not line.startswith("   ")}
    assert listed == set(cli.VERBS)
    for verb in cli.VERBS:
        description = cli.describe(verb)
        assert description and description != "(module not found)", verb
        assert f"  {verb}  " in proc.stdout and description.split()[0] in proc.stdout


@pytest.mark.parametrize("verb", LIGHT)
def test_verb_help_is_fast_and_imports_no_torch(verb):
    proc, report, wall = lslm(verb, "--help")
    assert report == {"codes": [0], "heavy": []}, f"lslm {verb} --help imported {report['heavy']}"
    assert wall < 3, f"lslm {verb} --help took {wall:.1f} s"
    assert proc.stdout.startswith("usage: ")  # "usage: lslm VERB" unless the parser sets its own prog


@pytest.mark.skipif(not PENDING, reason="every recipe is light")
def test_help_of_verbs_not_yet_light():
    """One process for all of them: each imports torch, once."""
    proc, report, _ = lslm(*(f"--each={verb}" for verb in PENDING))
    assert report["codes"] == [0] * len(PENDING), dict(zip(PENDING, report["codes"]))
    assert proc.stdout.count("usage: ") == len(PENDING)


def test_every_verb_resolves_to_a_module_with_main():
    """Read from the source, as `lslm --help` does: a typo in the table fails here, not at a user."""
    for verb in cli.VERBS:
        path = cli.source_file(cli.resolve(verb))
        assert path is not None, f"{verb}: none of {cli.VERBS[verb]} exists"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "main" in functions, f"{verb}: {path} has no main()"


@pytest.mark.parametrize("docstring, expected", [
    ("Recipe: train the VQ-VAE tokenizer (stage 1).\n\nMore.", "Train the VQ-VAE tokenizer (stage 1)"),
    ("`python tools/evaluate.py`: score translations. Then more.", "Score translations"),
    ("Estimate joints from sign videos or `.pose` files\ninto a raw dataset (docs/video.md).",
     "Estimate joints from sign videos or `.pose` files into a raw dataset (docs/video.md)"),
    ("", ""),
])
def test_first_sentence(docstring, expected):
    assert cli.first_sentence(docstring) == expected


def test_unknown_verb_suggests_the_close_one(capsys):
    assert cli.main(["trian-tokenizer"]) == 2
    err = capsys.readouterr().err
    assert "unknown verb 'trian-tokenizer'" in err and "Did you mean 'train-tokenizer'?" in err
    assert all(verb in err for verb in cli.VERBS)
    assert cli.main(["zzzz"]) == 2
    assert "Did you mean" not in capsys.readouterr().err


def test_version_and_bare_command(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lslm {__version__}"
    assert cli.main([]) == 2
    assert "usage: lslm" in capsys.readouterr().err


@pytest.mark.parametrize("returned, code", [(0, 0), (3, 3), (None, 0), ({"bleu4": 1.0}, 0), (Path("run"), 0)])
def test_verb_runs_main_with_its_arguments(monkeypatch, returned, code):
    calls = []

    def main(argv):
        calls.append((argv, list(sys.argv)))
        return returned

    monkeypatch.setitem(sys.modules, "fake_recipe", types.SimpleNamespace(main=main))
    monkeypatch.setitem(cli.VERBS, "fake", ("fake_recipe",))
    before = list(sys.argv)
    assert cli.main(["fake", "--x", "1", "a=b"]) == code
    assert calls == [(["--x", "1", "a=b"], ["lslm fake", "--x", "1", "a=b"])]
    assert sys.argv == before


def test_installed_wheel_runs_outside_the_checkout(tmp_path):
    """Build the wheel (not editable), install it into a fresh venv that borrows this environment's
    dependencies, and run `lslm` from a folder outside the checkout with no PYTHONPATH."""
    source = tmp_path / "src"  # a copy, so the build leaves no build/ or egg-info in the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("lslm", "assets", "configs"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}

    def run(*args, cwd=tmp_path):
        proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
        "-w", tmp_path / "dist", ".", cwd=source)
    wheel, = (tmp_path / "dist").glob("lslm-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    # The dependencies (and pip) of this environment, as plain paths: its .pth files, among them the
    # editable install of lslm, are not processed, so only the wheel's lslm can be imported.
    borrowed = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    (site / "borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", wheel)

    work = tmp_path / "work"
    work.mkdir()
    where = json.loads(run(python, "-c", "import json, lslm, lslm.assets as a; print(json.dumps(["
                                        "lslm.__file__, str(a.config_path('configs/lslm/tiny.yaml')), "
                                        "str(a.asset_path('templates', 'instruct.json'))]))", cwd=work))
    for path in where:
        assert Path(path).resolve().is_relative_to(venv.resolve()), where

    bin_dir = venv / "bin"
    assert "train-tokenizer" in run(bin_dir / "lslm", "--help", cwd=work)
    assert run(bin_dir / "lslm", "--version", cwd=work).strip() == f"lslm {__version__}"
    assert "usage: lslm evaluate" in run(bin_dir / "lslm-evaluate", "--help", cwd=work)

    # One small job: two sentences, one word of twelve wrong: WER 1/12, BLEU-1 11/12.
    rows = [("a", "the cat sat on the mat", "the cat sat on the mat"),
            ("b", "a dog runs in the park", "a dog walks in the park")]
    for name, key, column in (("pred.jsonl", "prediction", 1), ("ref.jsonl", "reference", 2)):
        (work / name).write_text("".join(json.dumps({"id": row[0], key: row[column]}) + "\n" for row in rows))
    run(bin_dir / "lslm", "evaluate", "--predictions", "pred.jsonl", "--references", "ref.jsonl",
        "--metrics", "bleu,wer", "--out", "eval", cwd=work)
    metrics = json.loads((work / "eval" / "metrics.json").read_text())
    assert metrics["wer"] == pytest.approx(100 / 12)
    assert metrics["bleu1"] == pytest.approx(100 * 11 / 12)
    assert metrics["counts"]["samples"] == 2
