"""Passwords come from a file's first line or from the environment, never from argv."""

from __future__ import annotations

import pytest
from mailrep.mail.credentials import load_password

ENV = "MAILREP_TEST_PASSWORD"


def test_file_first_line_without_its_newline(tmp_path):
    path = tmp_path / "pw"
    path.write_text("s3cret pass\nsecond line\n")
    path.chmod(0o600)
    assert load_password(str(path), None, ENV) == "s3cret pass"


def test_file_with_crlf_line_end(tmp_path):
    path = tmp_path / "pw"
    path.write_bytes(b"abc\r\n")
    path.chmod(0o600)
    assert load_password(str(path), None, ENV) == "abc"


def test_file_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "from-env")
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    path.chmod(0o600)
    assert load_password(str(path), None, ENV) == "from-file"


def test_default_environment_variable(monkeypatch):
    monkeypatch.setenv(ENV, "from-env")
    assert load_password(None, None, ENV) == "from-env"


def test_named_environment_variable_instead_of_default(monkeypatch):
    monkeypatch.setenv(ENV, "default")
    monkeypatch.setenv("OTHER_PW", "named")
    assert load_password(None, "OTHER_PW", ENV) == "named"


def test_nothing_given_is_none(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert load_password(None, None, ENV) is None


def test_empty_environment_variable_is_none(monkeypatch):
    monkeypatch.setenv(ENV, "")
    assert load_password(None, None, ENV) is None


def test_missing_file_is_oserror(tmp_path):
    with pytest.raises(OSError):
        load_password(str(tmp_path / "absent"), None, ENV)


def test_empty_first_line_is_an_error_not_no_password(tmp_path):
    path = tmp_path / "pw"
    path.write_text("\nsecond\n")
    path.chmod(0o600)
    with pytest.raises(OSError, match="empty"):
        load_password(str(path), None, ENV)


def test_world_readable_file_warns_but_is_used(tmp_path, capsys):
    path = tmp_path / "pw"
    path.write_text("open\n")
    path.chmod(0o644)
    assert load_password(str(path), None, ENV) == "open"
    assert "readable by every user" in capsys.readouterr().err


def test_private_file_does_not_warn(tmp_path, capsys):
    path = tmp_path / "pw"
    path.write_text("closed\n")
    path.chmod(0o600)
    load_password(str(path), None, ENV)
    assert capsys.readouterr().err == ""


def test_a_first_line_that_is_not_utf8_is_an_error_that_quotes_no_byte_of_it(tmp_path):
    path = tmp_path / "pw"
    path.write_bytes(b"caf\xe9-secret\n")  # Latin-1, as an old editor writes it
    path.chmod(0o600)
    with pytest.raises(OSError, match="not UTF-8") as raised:
        load_password(str(path), None, ENV)
    assert "secret" not in str(raised.value) and "xe9" not in str(raised.value)


def test_a_utf8_password_is_read_as_text(tmp_path):
    path = tmp_path / "pw"
    path.write_bytes("Grüße-pässwörd\n".encode())
    path.chmod(0o600)
    assert load_password(str(path), None, ENV) == "Grüße-pässwörd"
