"""The options reference in docs/ is the plugins' own --help text, regenerated."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_docs_options_rst_matches_the_option_definitions():
    spec = importlib.util.spec_from_file_location("gen_options", ROOT / "docs" / "gen_options.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "docs" / "options.rst").read_text()
    assert committed == gen.render(), "docs/options.rst is stale: run docs/gen_options.py"
