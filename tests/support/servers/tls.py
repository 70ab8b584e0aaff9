"""A throw-away certificate authority and a server certificate, made with the openssl CLI.

Clients under test must verify the server certificate the way they would in production, so
the harness issues a real chain: a CA (keyCertSign) and a leaf for ``localhost`` and
``127.0.0.1`` (both in subjectAltName, with the key identifiers Python's strict X.509 mode
wants). The ``cryptography`` package is not a dependency; ``openssl`` is in every Debian.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = "openssl"


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the CA certificate (give it to clients) and the server's cert and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _run(args: list[str], cwd: Path) -> None:
    result = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def make_tls(
    directory: Path,
    names: tuple[str, ...] = ("localhost",),
    addresses: tuple[str, ...] = ("127.0.0.1",),
) -> TlsFiles:
    """Create ``ca.crt``, ``server.crt`` and ``server.key`` in ``directory`` (EC P-256, 2 days)."""
    if shutil.which(OPENSSL) is None:
        raise RuntimeError("openssl is missing: install the Debian package 'openssl'")
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run(
        [
            "req",
            "-x509",
            *ec,
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=mailrep test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            "subjectKeyIdentifier=hash",
        ],
        directory,
    )
    _run(
        [
            "req",
            "-new",
            *ec,
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            f"/CN={names[0]}",
        ],
        directory,
    )
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{a}" for a in addresses])
    (directory / "server.ext").write_text(
        f"subjectAltName={san}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _run(
        [
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ],
        directory,
    )
    for name in ("ca.crt", "server.crt"):
        (directory / name).chmod(0o644)
    (directory / "server.key").chmod(0o600)
    return TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
