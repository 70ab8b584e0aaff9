"""Messages from an IMAP folder, strictly read-only.

The folder is opened with EXAMINE (read-only: the server itself refuses flag changes), the
window is narrowed server-side with ``SEARCH SINCE``, then exactly by INTERNALDATE (SINCE
has day granularity), and bodies are fetched with ``BODY.PEEK`` so no message gains
``\\Seen``. Only the messages inside the window are fetched, in batches, so a 24 h window
over a large folder costs a fraction of a full download.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mailrep.mail.imap_conn import close, connect, describe_error
from mailrep.mail.message import FetchStats, ImapSettings, Message, SourceError

BATCH = 200  # messages per FETCH: few round trips, bounded memory


def search_criteria(since: datetime | None, subject_token: str | None) -> list[Any]:
    """SEARCH criteria: SINCE one day early (SINCE ignores time and zone), SUBJECT token."""
    criteria: list[Any] = []
    if since is not None:
        criteria += ["SINCE", (since.astimezone(UTC) - timedelta(days=1)).date()]
    if subject_token:
        criteria += ["SUBJECT", subject_token]
    return criteria or ["ALL"]


def read_imap(
    settings: ImapSettings,
    since: datetime | None,
    *,
    headers_only: bool = False,
    subject_token: str | None = None,
    newest: bool | int = False,
    stats: FetchStats | None = None,
) -> Iterator[Message]:
    """Messages of ``settings.folder`` that arrived at or after ``since``, oldest first.

    ``headers_only`` fetches ``BODY.PEEK[HEADER]`` (enough to count or to read Received
    lines). ``subject_token`` keeps only messages whose Subject contains it. ``newest``
    (True or a count N) keeps only the newest one (N) of those. ``stats`` is filled as
    messages are fetched.

    A generator: the connection is made, and any SourceError raised, when iteration starts;
    it is closed (LOGOUT) when iteration ends or the generator is closed.
    """
    from imapclient.exceptions import IMAPClientError

    where = f"IMAP {settings.host}:{settings.effective_port}"
    client = connect(settings)
    try:
        try:
            client.select_folder(settings.folder, readonly=True)
        except (OSError, IMAPClientError) as exc:
            raise SourceError(
                f"{where}: cannot open folder {settings.folder}: {describe_error(exc)}"
            ) from None
        try:
            charset = None if (subject_token or "").isascii() else "UTF-8"
            uids = sorted(client.search(search_criteria(since, subject_token), charset))
            uids = _in_window(client, uids, since, settings.folder)
            if newest:
                uids = uids[-int(newest) :]
            yield from _fetch(client, uids, settings.folder, headers_only, stats)
        except (OSError, IMAPClientError) as exc:
            raise SourceError(f"{where}: {describe_error(exc)}") from None
    finally:
        close(client)


class NotFetched(SourceError):
    """SEARCH listed messages that FETCH did not return, and they were not expunged."""


def _check_missing(client: Any, missing: list[int], folder: str) -> None:
    """Messages SEARCH listed but FETCH left out: gone meanwhile (someone expunged them), or
    a server that lists what it will not hand out. Counting them as read would turn "could
    not read" into "no bounces", so the ones that are still there are an error."""
    if not missing:
        return
    asked = set(missing)
    kept = sorted(uid for uid in client.search(["UID", uid_set(missing)]) if uid in asked)
    if kept:
        raise NotFetched(
            f"{folder}: {len(kept)} of the messages listed were not returned by FETCH "
            f"(UID {kept[0]}{' ...' if len(kept) > 1 else ''}): the server lists messages it "
            "does not hand out"
        )


def uid_set(uids: list[int]) -> str:
    """``1:3,7,9:10``: an IMAP sequence set of these UIDs, runs collapsed."""
    runs: list[list[int]] = []
    for uid in sorted(set(uids)):
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in runs)


def _in_window(client: Any, uids: list[int], since: datetime | None, folder: str) -> list[int]:
    """Exact window: keep UIDs whose INTERNALDATE is at or after ``since`` (cheap: a date
    per message, fetched only for the day-granular SEARCH hits)."""
    if since is None or not uids:
        return uids
    kept = []
    for start in range(0, len(uids), BATCH * 10):
        chunk = uids[start : start + BATCH * 10]
        answers = client.fetch(chunk, ["INTERNALDATE"])
        _check_missing(client, [uid for uid in chunk if uid not in answers], folder)
        for uid, data in answers.items():
            arrived = _aware(data.get(b"INTERNALDATE"))
            if arrived is None or arrived >= since:
                kept.append(uid)
    return sorted(kept)


def _fetch(
    client: Any, uids: list[int], folder: str, headers_only: bool, stats: FetchStats | None
) -> Iterator[Message]:
    section = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
    answer_key = b"BODY[HEADER]" if headers_only else b"BODY[]"
    for start in range(0, len(uids), BATCH):
        chunk = uids[start : start + BATCH]
        answers = client.fetch(chunk, [section, "INTERNALDATE"])
        # A FETCH answer without the body asked for (only flags or a date) is not a message.
        _check_missing(client, [u for u in chunk if answer_key not in answers.get(u, {})], folder)
        for uid in chunk:
            data = answers.get(uid)
            if data is None or answer_key not in data:  # expunged by someone else meanwhile
                continue
            raw = data[answer_key] or b""
            if stats is not None:
                stats.messages += 1
                stats.bytes += len(raw)
            yield Message(f"imap:{folder}:{uid}", _aware(data.get(b"INTERNALDATE")), raw)


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
