"""The web app's pieces (docs/app.md): `backend` (models loaded once, one file translated, one sentence
produced, the model card; no web imports) and `ui` (the Gradio page). The runnable app is
`lslm.recipes.app` (tools/app.py)."""
from lslm.app.backend import (
    AppModels,
    Example,
    Production,
    Translation,
    find_examples,
    model_card,
    write_production,
)

__all__ = ["AppModels", "Example", "Production", "Translation", "find_examples", "model_card", "write_production"]
