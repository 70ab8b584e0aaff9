"""The man pages in docs/man are the plugins' own option definitions, and they render.

docs/gen_man.py writes them from the same ``build_parser()`` that ``-h`` and docs/options.rst
come from; a committed page that differs from a fresh rendering is stale. Each page is run
through the real groff (all warnings on) and man-db's ``man -l``, which is how a user reads
it (Debian packages groff-base and man-db; a missing one fails, never skips).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MAN = ROOT / "docs" / "man"
PLUGINS = ("check_dnsbl", "check_relay_chain", "check_bounce_rate")
SECTIONS = (
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "OPTIONS",
    "EXIT STATUS",
    "EXAMPLES",
    "ENVIRONMENT",
    "FILES",
)

plugins = pytest.mark.parametrize("name", PLUGINS)


def generator():
    spec = importlib.util.spec_from_file_location("gen_man", ROOT / "docs" / "gen_man.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install the Debian package {package}")
    return path


def rendered(name: str) -> str:
    """``man -l`` of the committed page as a user's terminal (80 columns) would show it."""
    proc = subprocess.run(
        [tool("man", "man-db"), "--warnings", "-l", str(MAN / f"{name}.1")],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat", "LANG": "C.UTF-8"},
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return proc.stdout


def words(text: str) -> str:
    return " ".join(text.split())


@plugins
def test_the_committed_man_page_matches_the_option_definitions(name):
    committed = (MAN / f"{name}.1").read_text()
    assert committed == generator().render(name), f"docs/man/{name}.1 is stale: run docs/gen_man.py"


@plugins
def test_groff_formats_the_page_without_a_single_warning(name):
    proc = subprocess.run(
        [tool("groff", "groff-base"), "-man", "-ww", "-z", str(MAN / f"{name}.1")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (0, "")


@plugins
def test_man_renders_every_section_in_order(name):
    headings = [ln for ln in rendered(name).splitlines() if ln and not ln[0].isspace()]
    found = [h for h in headings if h in SECTIONS]
    assert found == list(SECTIONS)


@plugins
def test_every_option_and_its_help_text_reach_the_rendered_page(name):
    """No option lost or mangled (hyphenation off, minus signs kept): what -h says, man says."""
    gen = generator()
    parser = importlib.import_module(name).build_parser()
    text = words(rendered(name))
    missing = [
        "/".join(a.option_strings)
        for a in parser._actions
        if a.option_strings
        and not (
            all(s in text for s in a.option_strings) and words(gen.help_text(parser, a)) in text
        )
    ]
    assert missing == []


@plugins
def test_the_examples_of_the_help_epilog_are_the_pages_examples(name):
    parser = importlib.import_module(name).build_parser()
    examples, _states, _other = generator().epilog_parts(parser)
    page = rendered(name)
    assert examples and all(words(x) in words(page) for x in examples)


def test_every_plugins_page_is_installed_under_share_man_man1():
    """setup.cfg's data_files carry each page to <prefix>/share/man/man1."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = cfg["options.data_files"]["share/man/man1"].split()
    assert sorted(listed) == sorted(f"docs/man/{name}.1" for name in PLUGINS)
