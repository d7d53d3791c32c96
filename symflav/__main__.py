"""The ``symflav`` command (``python -m symflav`` and the console script).

A ``spectrum`` or ``check`` run before with the same arguments, in the same folder, on unchanged
files, is replayed from the on-disk cache (:func:`symflav.core.cache.replayed_command`) before
the command line module is imported: that import brings in sympy and every stage (about a
second), which a replayed command does not need. Anything else goes to
:func:`symflav.cli.console`."""

import importlib
import sys

from symflav.core.cache import Cache, replayed_command

REPLAYED = ("spectrum", "check")  # as symflav.cli.REPLAYED (a test checks that they agree)


def main() -> None:
    cache = Cache.from_environment()
    replayed = replayed_command(cache, sys.argv[1:]) if sys.argv[1:2] and sys.argv[1] in REPLAYED else None
    if replayed is not None:
        sys.stdout.write(replayed[0])
        sys.stdout.flush()
        sys.exit(replayed[1])
    for note in cache.notes:  # a stale entry: the command runs
        print(f"symflav: note: {note}", file=sys.stderr)
    # Imported here, not at the top, on purpose: the replay above must not pay for it.
    importlib.import_module("symflav.cli").console()


if __name__ == "__main__":
    main()
