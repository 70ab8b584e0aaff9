"""The probe's clean-up decision, told by the IMAP commands it sends: only the probe's UID
is flagged and expunged (UID EXPUNGE), never a plain EXPUNGE; without UIDPLUS nothing is
touched at all. (The real-server side is in tests/integration/test_probe.py, and, with a
Dovecot configured not to offer UIDPLUS, in tests/integration/test_probe_without_uidplus.py;
here the commands themselves are checked.)"""

from __future__ import annotations

import time

from mailrep.mail.roundtrip import _delete


class RecordingClient:
    """Answers like an IMAPClient and writes down every command it was given."""

    def __init__(self, capabilities: set[str], recent: tuple[list[int], ...] = ()) -> None:
        self.capabilities = capabilities
        self.calls: list[tuple] = []
        self.expunged: set[int] = set()
        self.recent = list(recent)  # answers to the successive searches for RECENT

    def has_capability(self, name: str) -> bool:
        return name in self.capabilities

    def socket(self):
        client = self

        class Sock:
            def settimeout(self, value: float) -> None:
                client.calls.append(("settimeout",))

        return Sock()

    def select_folder(self, folder, readonly=False):
        self.calls.append(("select_folder", folder, readonly))

    def add_flags(self, messages, flags, silent=False):
        self.calls.append(("add_flags", list(messages), list(flags)))

    def uid_expunge(self, messages):
        self.calls.append(("uid_expunge", list(messages)))
        self.expunged.update(messages)

    def expunge(self, messages=None):
        self.calls.append(("expunge", messages))

    def search(self, criteria):
        self.calls.append(("search", list(criteria)))
        if criteria[0] == "RECENT":
            return self.recent.pop(0) if self.recent else []
        uid = int(criteria[1])
        return [] if uid in self.expunged else [uid]


def commands(client: RecordingClient) -> list[tuple]:
    return [c for c in client.calls if c[0] != "settimeout"]


FOREIGN_RECENT = ("search", ["RECENT", "NOT", "HEADER", "X-Mailrep-Probe", ""])


def test_only_the_probe_uid_is_flagged_and_expunged():
    client = RecordingClient({"IDLE", "UIDPLUS"})
    assert _delete(client, "INBOX", 42, time.monotonic() + 10, 5.0)
    assert commands(client) == [
        FOREIGN_RECENT,
        ("select_folder", "INBOX", False),
        FOREIGN_RECENT,
        ("add_flags", [42], [b"\\Deleted"]),
        ("uid_expunge", [42]),
        ("search", ["UID", "42"]),
    ]


def test_with_other_new_messages_the_folder_is_never_selected_read_write():
    """A read-write SELECT would take \\Recent from them (Dovecot: new/ -> cur/)."""
    client = RecordingClient({"UIDPLUS"}, recent=([7, 8],))
    cleanup = _delete(client, "INBOX", 42, time.monotonic() + 10, 5.0)
    assert not cleanup and "2 other message(s) in INBOX are still new" in cleanup.note
    assert commands(client) == [FOREIGN_RECENT]


def test_a_message_arriving_between_the_look_and_the_select_is_reported():
    client = RecordingClient({"UIDPLUS"}, recent=([], [9]))
    cleanup = _delete(client, "INBOX", 42, time.monotonic() + 10, 5.0)
    assert cleanup and "1 message(s) arriving during the clean-up" in cleanup.note


def test_plain_expunge_is_never_sent():
    client = RecordingClient({"UIDPLUS"})
    _delete(client, "INBOX", 7, time.monotonic() + 10, 5.0)
    assert all(c[0] != "expunge" for c in client.calls)


def test_without_uidplus_nothing_is_touched_and_not_deleted_is_reported():
    client = RecordingClient({"IDLE"})
    assert not _delete(client, "INBOX", 42, time.monotonic() + 10, 5.0)
    assert commands(client) == []


def test_probe_still_there_after_expunge_is_reported_not_deleted():
    client = RecordingClient({"UIDPLUS"})
    client.uid_expunge = lambda messages: client.calls.append(("uid_expunge", messages))
    assert not _delete(client, "INBOX", 42, time.monotonic() + 10, 5.0)
