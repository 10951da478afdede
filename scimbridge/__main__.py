"""``python -m scimbridge``: the same command as ``scimbridge``."""

from scimbridge.cli import main

main()
