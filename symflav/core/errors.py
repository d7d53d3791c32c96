"""The one error type for bad input.

Every problem with a derivation file or a command-line option is raised as
:class:`SpecError`, which the command line turns into a single line on stderr and
exit status 2. Its message names the file (or option), the key, and the problem.
"""

from __future__ import annotations


class SpecError(Exception):
    """Bad input: ``where`` is a file path or an option, ``key`` a dotted key."""

    def __init__(self, where: str, key: str | None, problem: str):
        self.where = str(where)
        self.key = key
        self.problem = problem
        super().__init__(self.line())

    def line(self) -> str:
        parts = [self.where]
        if self.key:
            parts.append(self.key)
        parts.append(self.problem)
        return ": ".join(parts)
