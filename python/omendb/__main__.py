"""``python -m omendb``: the omendb command-line tool (see omendb.cli)."""

from .cli import main

if __name__ == "__main__":
    main()
