"""The one family of errors that means "this cannot be judged" (UNKNOWN with the message).

Kept in a module of its own, importing nothing, so a plugin can name it before it has loaded
any of the machinery (``-V`` and ``-h`` must stay fast).
"""


class CannotJudge(Exception):
    """Bad input, unusable configuration, an unreachable mailbox: reported as UNKNOWN."""
