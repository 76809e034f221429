"""`python -m app.cli ...`: the same as the `relay` command."""

from app.cli import main

raise SystemExit(main())
