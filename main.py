"""ResNet Explorer. ``python main.py`` opens the app; ``python main.py <command>`` runs the CLI."""
import sys

if __name__ == "__main__":
    try:
        from explorer.launcher import main
    except KeyboardInterrupt:  # Ctrl+C before the launcher's own handler is in place (spec/interrupt.py)
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
