"""Data: one reader per format (idx, cifar, image_folder, digits, kdd, tables, video, ucsd, avenue, shanghaitech),
the split of every protocol (:mod:`.splits`) and the assembly of an experiment's data from a config's ``data``
section: train/validation/test arrays of images and tables (:mod:`.experiment`), training/validation clips and test
videos of the video datasets (:mod:`.video_experiment`).

Readers return arrays (or :class:`~memae.data.image_data.ImageData`, video sources); dispatchers by name sit above
the readers (:mod:`.images`, :mod:`.benchmarks`), so the modules form no import cycle.

May import: errors, io and third-party libraries only; never models, memory, training, scoring, config or any
higher layer, and no checkpoint keys (``lint-imports`` checks this; see ``pyproject.toml``).
"""
