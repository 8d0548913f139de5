"""Load-time errors: one exception type that always says ``file:line: what is wrong``."""

from __future__ import annotations


class LoadError(Exception):
    """Bad input found before any host is touched (the CLI exits 2)."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class LoadErrors(Exception):
    """Several load errors, reported together."""

    def __init__(self, errors: list[LoadError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
