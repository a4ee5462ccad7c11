"""``python -m cloudoptima_cli``: the same as the ``cloudoptima`` command."""

from cloudoptima_cli.app import main

if __name__ == "__main__":
    main()
