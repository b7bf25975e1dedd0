"""ResNet Explorer. ``python main.py`` opens the app; ``python main.py <command>`` runs the CLI."""
import sys

from explorer.launcher import main

if __name__ == "__main__":
    sys.exit(main())
