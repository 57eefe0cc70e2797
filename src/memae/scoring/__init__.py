"""Scoring: reconstruction errors of a trained model, metrics (scikit-learn; every pipeline's, under one set of names:
:mod:`.metrics`), video frame scores, error maps as pictures (:mod:`.heatmaps`) and their outputs (scores CSV,
regularity plot, error-map overlay: :mod:`.video_output`), and the reading of new inputs for ``memae score``
(:mod:`.inputs`).

May import: training (checkpoints, data plumbing), models, memory, data, config (names of errors and modes), io,
errors; never experiments, detector,
baselines, cli or the package root (``lint-imports`` checks this; see ``pyproject.toml``).
"""
