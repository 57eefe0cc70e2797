"""Data: one reader per format (idx, cifar, image_folder, digits, kdd, tables, video, ucsd, avenue, shanghaitech),
the split of every protocol (:mod:`.splits`) and the assembly of an experiment's data from a config's ``data``
section: train/validation/test arrays of images and tables (:mod:`.experiment`), training/validation clips and test
videos of the video datasets (:mod:`.video_experiment`).

:mod:`.video` and :mod:`.tables` gather the names of the modules of one job each that they are made of: for video
the sources (:mod:`.video_sources`), frame conversion (:mod:`.frames`), damage reports (:mod:`.damage`,
:mod:`.avi_index`), the writer (:mod:`.video_writer`), the frame cache (:mod:`.frame_cache`), clips (:mod:`.clips`)
and the benchmark type (:mod:`.video_benchmark`); for tables the file reading (:mod:`.table_files`), the
preprocessor (:mod:`.table_preprocessor`) and its block encoder (:mod:`.table_encoding`).

Readers return arrays (or :class:`~memae.data.image_data.ImageData`, video sources); dispatchers by name sit above
the readers (:mod:`.images`, :mod:`.benchmarks`), so the modules form no import cycle.

May import: errors, io and third-party libraries only; never models, memory, training, scoring, config or any
higher layer, and no checkpoint keys (``lint-imports`` checks this; see ``pyproject.toml``).
"""
