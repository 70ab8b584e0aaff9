"""A plugin's main() run in this process, for tests that need many runs and no servers."""

from __future__ import annotations

import contextlib
import importlib
import io
import os

import pytest


def run_main(module: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and stdout of ``module.main(argv)``, with ``env`` added to the environment
    for the run only (the plugins read secrets from it)."""
    main = importlib.import_module(module).main
    out = io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as ended:
            main(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return int(ended.value.code), out.getvalue()
