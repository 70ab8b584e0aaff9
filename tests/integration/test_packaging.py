"""``python -m build`` makes an sdist and a wheel that install and run on their own.

The wheel is built the way ``python -m build`` builds it by default: from the sdist, so a file
the sdist forgets is missing from the wheel too. It is installed into a fresh virtualenv with
no index at all (pip's configuration is blanked): the two runtime dependencies, nagiosplugin and
imapclient, are copied in as installed distributions from the test venv, so pip finds them
satisfied, and nothing else is there -- dnspython in particular is not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

from tests.support.lab import LISTED_IP

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("check_dnsbl", "check_relay_chain", "check_bounce_rate")
RUNTIME_DEPS = ("nagiosplugin", "imapclient")
#: contrib files that need the checkout (they run tests/ code): sdist only.
CHECKOUT_ONLY = {"contrib/incident-demo.sh"}
OFFLINE = {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""}


@dataclass
class Built:
    sdist: Path
    wheel: Path
    venv: Path

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name


def run(*argv: str | Path, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE, **(env or {})},
        check=False,
        timeout=300,
        **kw,
    )


def shipped_files(*tops: str) -> set[str]:
    """Files under ``tops`` in the checkout, as paths relative to it."""
    found = set()
    for top in tops:
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(str(path.relative_to(ROOT)))
    return found


def copy_distribution(name: str, site: Path) -> None:
    """An installed distribution (its files and dist-info) into another site-packages."""
    dist = metadata.distribution(name)
    for item in dist.files or []:
        source = Path(dist.locate_file(item))
        if source.is_file() and "__pycache__" not in source.parts:
            target = site / item
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    proc = run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sdists, wheels = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, list(out.iterdir())
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    proc = run(sys.executable, "-m", "venv", venv)
    assert proc.returncode == 0, proc.stderr
    purelib = run(
        venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
    )
    site = Path(purelib.stdout.strip())
    for name in RUNTIME_DEPS:
        copy_distribution(name, site)
    proc = run(venv / "bin" / "python", "-m", "pip", "install", "--no-index", wheels[0])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return Built(sdists[0], wheels[0], venv)


def test_the_sdist_carries_the_catalogue_the_man_pages_contrib_and_the_tests(built):
    with tarfile.open(built.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = shipped_files("contrib", "docs/man") | {"plugins/mailrep/dnsbl/zones.toml"}
    assert wanted - names == set()


def test_the_wheel_carries_the_catalogue_the_man_pages_and_contrib(built):
    with zipfile.ZipFile(built.wheel) as whl:
        names = set(whl.namelist())
    data = next(n.split("/data/")[0] for n in names if ".data/data/" in n) + "/data/"
    wanted = {"mailrep/dnsbl/zones.toml"}
    wanted |= {f"{data}share/man/man1/{Path(f).name}" for f in shipped_files("docs/man")}
    wanted |= {
        f"{data}share/mailrep/{f}" for f in shipped_files("contrib") if f not in CHECKOUT_ONLY
    }
    assert wanted - names == set()


def test_the_wheel_needs_only_nagiosplugin_and_imapclient(built):
    with zipfile.ZipFile(built.wheel) as whl:
        meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [
            line.split(":", 1)[1].split(";")[0].strip()
            for line in whl.read(meta).decode().splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line
        ]
    assert sorted(r.split(">")[0].split("=")[0].lower() for r in requires) == sorted(RUNTIME_DEPS)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_each_installed_plugin_prints_its_version_and_exits_3(built, plugin):
    proc = run(built.bin(plugin), "-V", cwd="/")
    assert (proc.returncode, proc.stdout.split()[:1]) == (3, [plugin]), proc.stdout + proc.stderr
    assert "(mailrep)" in proc.stdout


def test_the_installed_plugins_are_the_wheels_not_the_checkouts(built):
    code = "import check_dnsbl, mailrep; print(check_dnsbl.__file__); print(mailrep.__file__)"
    proc = run(built.bin("python"), "-c", code, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert all(Path(p).is_relative_to(built.venv) for p in proc.stdout.split())


def test_the_installed_catalogue_is_read_from_the_wheel(built):
    proc = run(built.bin("check_dnsbl"), "--list-zones", cwd="/")
    assert proc.returncode == 0 and "zen.spamhaus.org" in proc.stdout


def test_dnspython_is_not_installed_and_not_needed(built, psbl):
    assert run(built.bin("python"), "-c", "import dns").returncode != 0
    proc = run(
        built.bin("check_dnsbl"), "-n", psbl.nameserver, "-z", "psbl.surriel.com",
        "--allow-nonglobal", "-H", LISTED_IP, cwd="/",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr


def test_man_finds_the_installed_pages_next_to_the_plugins_on_path(built):
    env = {"PATH": f"{built.venv / 'bin'}:{os.environ.get('PATH', '')}", "MANPATH": ""}
    for plugin in PLUGINS:
        proc = run("man", "-w", plugin, env=env)
        assert proc.stdout.strip() == str(built.venv / "share" / "man" / "man1" / f"{plugin}.1")


def test_the_readme_the_icinga_notes_urls_point_at_is_installed(built):
    readme = built.venv / "share" / "doc" / "mailrep" / "README.rst"
    assert readme.read_text() == (ROOT / "README.rst").read_text()


def test_contrib_is_installed_under_share_mailrep(built):
    installed = built.venv / "share" / "mailrep" / "contrib"
    assert (installed / "icinga" / "mailrep.conf").read_text() == (
        ROOT / "contrib" / "icinga" / "mailrep.conf"
    ).read_text()
