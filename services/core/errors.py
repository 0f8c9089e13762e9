"""The one base of errors a user may see. Anything else is a programming error: it is logged and
the user gets a generic message, so an exception's text never reaches the screen by accident.

Shaped after superset's `CommandException` (a message and a status per error class).
"""

from __future__ import annotations


class UserError(Exception):
    """A request the user can correct; `str(error)` is the message shown to them.

    Not a ValueError on purpose: code that catches ValueError around parsing catches the
    parser's own errors, and a programming error's ValueError can never pass for a message
    meant for the user."""

    status = 400

    @property
    def user_message(self) -> str:
        return str(self)


class Forbidden(UserError, PermissionError):
    """The signed-in user's role does not allow this. Also a PermissionError, which is what
    callers outside the web tier (CLI, tests) have always caught."""

    status = 403


class NotSignedIn(UserError, PermissionError):
    status = 401
