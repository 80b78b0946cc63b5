"""One error type for bad input, shown to the user as a single line."""

import sys
from collections.abc import Callable


class UsageError(Exception):
    """Bad input (flags, files, repo ids): the message names the problem and what to do."""


def run_cli(main: Callable[[], int | None]) -> int:
    """Run a command-line `main`, turning a UsageError into one line on stderr and exit code 2."""
    try:
        return main() or 0
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
