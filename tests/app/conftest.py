"""The web app under test, launched once for the app tests on 127.0.0.1 (tests/app/app_fixtures.py builds
its models and examples). LSLM_APP_MODEL (LSLM_APP_PRODUCER, LSLM_APP_EXAMPLES) run the same tests on real models
instead: the README's screenshot is made so (docs/app.md)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from app_fixtures import MAX_UPLOAD_MB, save_producer, save_translator, write_examples

pytest.importorskip("gradio", reason="the app extra (pip install -e .[app])")


@pytest.fixture(scope="session")
def app_models(tmp_path_factory):
    """{"translator", "producer", "examples"}: the folders the app is launched on."""
    base = tmp_path_factory.mktemp("app_models")
    if os.environ.get("LSLM_APP_MODEL"):
        producer = os.environ.get("LSLM_APP_PRODUCER")
        return {"translator": Path(os.environ["LSLM_APP_MODEL"]), "producer": producer and Path(producer),
                "examples": Path(os.environ.get("LSLM_APP_EXAMPLES") or write_examples(base / "examples"))}
    return {"translator": save_translator(base / "translator" / "final"),
            "producer": save_producer(base / "producer" / "final"),
            "examples": write_examples(base / "examples")}


@pytest.fixture(scope="session")
def app(app_models, tmp_path_factory):
    """The running app (lslm.recipes.app.RunningApp) on 127.0.0.1, a free port from 7860."""
    from lslm.recipes.app import AppConfig, run

    producer, real = app_models["producer"], bool(os.environ.get("LSLM_APP_MODEL"))
    limit = AppConfig.max_upload_mb if real else MAX_UPLOAD_MB  # the page as users see it, for a screenshot
    running = run(AppConfig(model=str(app_models["translator"]), producer=producer and str(producer),
                            port=None, examples=str(app_models["examples"]), max_upload_mb=limit,
                            block=False, quiet=True, work_dir=str(tmp_path_factory.mktemp("app_work")),
                            render_frames=8))
    yield running
    running.close()


@pytest.fixture(scope="session")
def examples(app):
    """The examples the app offers (lslm.app.Example: id, path, text)."""
    return app.settings.examples
