"""``python -m vocalmine``: the same as the ``vocalmine`` command."""

from vocalmine.cli import main

if __name__ == "__main__":
    main()
