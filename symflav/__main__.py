"""``python -m symflav`` runs the command line.

A ``spectrum`` or ``check`` run before with the same arguments, in the same folder, on unchanged
files, is replayed from the on-disk cache (:func:`symflav.core.cache.replayed_command`) before the
command line module and sympy are imported (about a second); anything else goes to
:func:`symflav.cli.console`."""

import sys

from symflav.core.cache import Cache, replayed_command

if __name__ == "__main__":
    _cache = Cache.from_environment()
    _replayed = replayed_command(_cache, sys.argv[1:]) if sys.argv[1:2] in (["spectrum"], ["check"]) else None
    if _replayed is not None:
        sys.stdout.write(_replayed[0])
        sys.stdout.flush()
        sys.exit(_replayed[1])
    for _note in _cache.notes:
        print(f"symflav: note: {_note}", file=sys.stderr)
    from symflav.cli import console  # here, after the replay: it imports the derivation code and sympy

    console()
