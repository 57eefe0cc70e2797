"""Frame scores from clip errors, regularity, frame-level metrics and error-map upsampling."""

from __future__ import annotations

import numpy as np
import pytest

from memae.scoring.video import (
    equal_error_rate,
    evaluate_frames,
    frame_scores_from_clips,
    nearest_fill,
    num_clips,
    pixel_error_map,
    regularity,
)
from memae.errors import DataError

nan = np.nan


def test_center_mode_gives_each_clip_to_its_middle_frame():
    scores, scored = frame_scores_from_clips(np.array([1.0, 2.0, 3.0]), num_frames=5, clip_len=3)
    np.testing.assert_array_equal(scores, [nan, 1, 2, 3, nan])
    np.testing.assert_array_equal(scored, [False, True, True, True, False])


def test_center_mode_uses_the_ninth_frame_of_a_16_frame_clip():
    scores, scored = frame_scores_from_clips(np.arange(5.0), num_frames=20, clip_len=16)
    assert np.flatnonzero(scored).tolist() == [8, 9, 10, 11, 12]
    assert scores[8] == 0 and scores[12] == 4


def test_mean_mode_averages_all_clips_containing_a_frame():
    scores, scored = frame_scores_from_clips(np.array([1.0, 2.0, 3.0]), num_frames=5, clip_len=3, mode="mean")
    np.testing.assert_allclose(scores, [1, 1.5, 2, 2.5, 3])
    assert scored.all()
    # stride 3 leaves frame 3 covered by one clip only and frame 8 by none
    s, m = frame_scores_from_clips(np.array([2.0, 4.0]), num_frames=9, clip_len=4, stride=3, mode="mean")
    np.testing.assert_allclose(s, [2, 2, 2, 3, 4, 4, 4, nan, nan])
    np.testing.assert_array_equal(m, [True] * 7 + [False] * 2)


def test_stride_gaps_and_nearest_fill():
    s, m = frame_scores_from_clips(np.array([1.0, 2.0, 3.0]), num_frames=7, clip_len=3, stride=2)
    np.testing.assert_array_equal(s, [nan, 1, nan, 2, nan, 3, nan])
    f, m2 = frame_scores_from_clips(np.array([1.0, 2.0, 3.0]), num_frames=7, clip_len=3, stride=2, fill="nearest")
    np.testing.assert_array_equal(f, [1, 1, 1, 2, 2, 3, 3])  # ties go to the earlier frame
    np.testing.assert_array_equal(m, m2)
    one, _ = frame_scores_from_clips(np.array([5.0]), num_frames=4, clip_len=4, fill="nearest")
    np.testing.assert_array_equal(one, [5, 5, 5, 5])
    np.testing.assert_array_equal(nearest_fill(s), f)  # the same rule for arrays with NaN gaps (memae score-video)
    np.testing.assert_array_equal(nearest_fill([nan, 5.0, nan]), [5, 5, 5])
    assert np.isnan(nearest_fill([nan, nan])).all() and nearest_fill(np.arange(3)).dtype == np.float64


def test_clip_count_must_match():
    assert num_clips(20, 16, 1) == 5 and num_clips(20, 16, 2) == 3 and num_clips(10, 16) == 0
    with pytest.raises(DataError, match="got 4 clip errors for a video of 20 frames.*give 5 clips"):
        frame_scores_from_clips(np.zeros(4), num_frames=20, clip_len=16)
    with pytest.raises(DataError, match="mode"):
        frame_scores_from_clips(np.zeros(5), num_frames=20, mode="max")
    with pytest.raises(DataError, match="NaN or inf"):
        frame_scores_from_clips(np.array([1.0, nan]), num_frames=3, clip_len=2)


def test_regularity():
    np.testing.assert_allclose(regularity(np.array([2.0, 4.0, 6.0])), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(regularity(np.array([3.0, 3.0])), [1.0, 1.0])  # constant: no 0/0
    np.testing.assert_allclose(regularity(np.array([nan, 1.0, 3.0])), [nan, 1.0, 0.0])
    assert np.isnan(regularity(np.array([nan, nan]))).all()


def test_evaluate_frames_hand_computed():
    scores = [np.array([1.0, 2, 3, 4]), np.array([100.0, 110, 120]), np.array([5.0, 6, 7])]
    labels = [np.array([0, 0, 1, 1]), np.array([0, 1, 0]), np.array([0, 0, 0])]
    r = evaluate_frames(scores, labels)
    # Normalised: A [0, 1/3, 2/3, 1], B [0, .5, 1], C [0, .5, 1]; positives 2/3, 1, .5 vs 7 negatives:
    # wins 5 + (5 + 1 tie) + (4 + 1 tie) = 15.5 of 21 pairs.
    assert r["roc_auc"] == pytest.approx(15.5 / 21)
    # Precision at the thresholds 1, 2/3, .5: 1/3, 1/2, 1/2, each adding 1/3 recall.
    assert r["average_precision"] == pytest.approx(4 / 9)
    # ROC points (2/7, 2/3) and (3/7, 1): FNR = FPR at 2/7 + 0.1 * 1/7 = 0.3
    assert r["eer"] == pytest.approx(0.3)
    assert r["video_roc_aucs"][:2] == [1.0, 0.5] and np.isnan(r["video_roc_aucs"][2])
    assert r["mean_video_roc_auc"] == pytest.approx(0.75)
    assert r["n_videos"] == 3 and r["n_videos_skipped"] == 1
    assert r["n_frames"] == 10 and r["n_anomalous"] == 3 and r["n_unscored"] == 0


def test_evaluate_frames_raw_scores_and_unscored_frames():
    scores = [np.array([1.0, 2, 3, 4]), np.array([100.0, 110, 120])]
    labels = [np.array([0, 0, 1, 1]), np.array([0, 1, 0])]
    assert evaluate_frames(scores, labels, normalize=False)["roc_auc"] == pytest.approx(7 / 12)
    assert evaluate_frames(scores, labels)["roc_auc"] == pytest.approx(9.5 / 12)
    with_gaps = [np.array([nan, 2, 3, nan]), np.array([100.0, 110, 120])]
    r = evaluate_frames(with_gaps, labels)
    assert r["n_unscored"] == 2 and r["n_frames"] == 5
    # A keeps [2, 3] -> [0, 1] with labels [0, 1]; B [0, .5, 1] with [0, 1, 0]: pos 1, .5 vs neg 0, 0, 1
    assert r["roc_auc"] == pytest.approx((2.5 + 2) / 6)


def test_evaluate_frames_errors():
    with pytest.raises(DataError, match="video 1: 3 scores but 2 labels"):
        evaluate_frames([np.zeros(2), np.zeros(3)], [np.zeros(2), np.zeros(2)])
    with pytest.raises(DataError, match="only one class"):
        evaluate_frames([np.arange(3.0)], [np.zeros(3)])
    with pytest.raises(DataError, match="2 videos of scores but 1"):
        evaluate_frames([np.zeros(2), np.zeros(2)], [np.zeros(2)])
    with pytest.raises(DataError, match="0/1"):
        evaluate_frames([np.arange(3.0)], [np.array([0, 2, 1])])


def test_equal_error_rate_perfect_and_inverted():
    y = np.array([0, 0, 1, 1])
    assert equal_error_rate(y, np.array([0.1, 0.2, 0.8, 0.9]))[0] == pytest.approx(0.0)
    assert equal_error_rate(y, np.array([0.9, 0.8, 0.2, 0.1]))[0] == pytest.approx(1.0)


def test_pixel_error_map():
    e = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    up = pixel_error_map(e, (4, 6), resample="nearest")
    np.testing.assert_array_equal(up, np.kron(e, np.ones((2, 3))))
    const = pixel_error_map(np.full((3, 2, 2), 0.25), (5, 7))
    assert const.shape == (3, 5, 7) and const.dtype == np.float32
    np.testing.assert_allclose(const, 0.25, rtol=1e-6)
    smooth = pixel_error_map(e, (8, 8))
    assert smooth.min() >= 0 and smooth.max() <= 3 and smooth[0, 0] < smooth[-1, -1]
    with pytest.raises(DataError, match="shape"):
        pixel_error_map(np.zeros(4), (2, 2))
