"""`python -m bot`: the same as the `ferrybot` command."""

from bot.cli.main import main

raise SystemExit(main())
