"""``python -m convexcheck`` is the same as the ``convexcheck`` command."""

from convexcheck.cli import main

raise SystemExit(main())
