"""Runnable recipes: each is a typed config dataclass, `run(config) -> result` and a thin `main(argv)`
that only parses the command line into the config (`tools/<name>.py` wraps `main`)."""
