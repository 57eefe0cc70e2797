"""The ``memae`` command: argument parsers and thin commands over library calls (:mod:`.main`, :mod:`.reproduce`,
:mod:`.video`).

The top layer: it may import every other package, but imports each library inside the command that needs it,
so ``memae --help`` loads neither torch nor scikit-learn. Nothing else in memae imports it.
"""
