"""``python -m symflav`` runs the command line."""

from symflav.cli import main

raise SystemExit(main())
