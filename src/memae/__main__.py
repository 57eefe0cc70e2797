"""``python -m memae`` (and ``torchrun ... -m memae``): the ``memae`` command."""

from .cli.main import main

if __name__ == "__main__":  # importing this module (as --doctest-modules does) runs nothing
    raise SystemExit(main())
