"""`python -m bot`: the same as the `ferrybot` command."""

from bot.cli import main

raise SystemExit(main())
