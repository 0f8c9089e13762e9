"""The one exception the grid service raises for requests it refuses.

Its message is written for the person using the grid (it names the column, filter type or
operator that was refused), so the page may show it as is; it never echoes long user input.
"""

from __future__ import annotations

from services.core.errors import UserError


class GridQueryError(UserError):
    """A filter, sort, search or paging request outside what the grid allows."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def shown(value: object, limit: int = 40) -> str:
    """A short, printable rendering of a refused value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
