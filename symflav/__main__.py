"""``python -m symflav`` runs the command line."""

from symflav.cli import console

console()
