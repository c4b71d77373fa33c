"""Lesion components: organ and Couinaud segment by overlap, size and diameter."""

from __future__ import annotations

import numpy as np
import pytest

from engine.imaging import LabelVolume, compute_features, load_ct, load_label_volume


@pytest.fixture
def loaded(case_files):
    ct = load_ct(case_files[0], "case-1")
    return ct, load_label_volume(case_files[1], ct, case_id="case-1")


def _volume(array, ct, names):
    return LabelVolume(array, ct.affine, names, "memory")


def test_two_blobs_of_one_label_are_two_lesions(loaded, synthetic):
    ct, organs = loaded
    lesions = np.zeros(synthetic.shape, dtype=np.uint8)
    lesions[12:16, 10:13, 6:8] = 1  # inside the liver, 4 x 3 pixels of 2 mm
    lesions[29:31, 11:13, 9:10] = 1  # inside the spleen
    features = compute_features("case-1", ct, organs, _volume(lesions, ct, {1: "lesion_1"}))
    first, second = features.lesions

    assert (first.lesion_id, first.organ, first.voxel_count) == ("img-L1", "liver", 24)
    assert (second.lesion_id, second.organ, second.voxel_count) == ("img-L2", "spleen", 4)
    assert first.organ_overlap == 1.0
    assert first.bbox_voxel_xyz == (12, 10, 6, 16, 13, 8)
    assert first.max_axial_diameter_mm == pytest.approx(np.hypot(8.0, 6.0))
    assert first.volume_ml == pytest.approx(24 * 12 / 1000)
    assert first.hu_mean == pytest.approx(float(ct.hu[12:16, 10:13, 6:8].mean()), rel=1e-6)


def test_lesion_outside_organs_has_no_organ(loaded, synthetic):
    ct, organs = loaded
    lesions = np.zeros(synthetic.shape, dtype=np.uint8)
    lesions[34:36, 30:32, 20:22] = 2
    (lesion,) = compute_features("case-1", ct, organs, _volume(lesions, ct, {2: "lesion_2"})).lesions

    assert lesion.organ is None
    assert lesion.organ_overlap == 0.0
    assert lesion.label == 2


def test_lesion_filling_its_box_is_measured(loaded, synthetic):
    ct, organs = loaded
    lesions = np.zeros(synthetic.shape, dtype=np.uint8)
    lesions[14, 14, 10] = 1
    (lesion,) = compute_features("case-1", ct, organs, _volume(lesions, ct, {1: "lesion_1"})).lesions

    assert lesion.voxel_count == 1
    assert lesion.max_axial_diameter_mm == pytest.approx(np.hypot(2.0, 2.0))


def test_liver_lesion_gets_couinaud_segment(loaded, synthetic):
    ct, organs = loaded
    segments = np.zeros(synthetic.shape, dtype=np.uint8)
    segments[10:18, 8:28, 5:18] = 6
    segments[18:25, 8:28, 5:18] = 7
    lesions = np.zeros(synthetic.shape, dtype=np.uint8)
    lesions[15:20, 12:15, 8:10] = 1  # 3 of 5 columns in segment 6
    features = compute_features(
        "case-1",
        ct,
        organs,
        _volume(lesions, ct, {1: "lesion_1"}),
        _volume(segments, ct, {6: "liver_segment_6", 7: "liver_segment_7"}),
        subregion_ids={"liver_segment_6": "segment_6", "liver_segment_7": "segment_7"},
    )

    assert features.lesions[0].subregion == "segment_6"


def test_touching_lesions_with_two_labels_stay_apart(loaded, synthetic):
    ct, organs = loaded
    lesions = np.zeros(synthetic.shape, dtype=np.uint8)
    lesions[12:14, 10:12, 6:8] = 1
    lesions[14:16, 10:12, 6:8] = 2
    features = compute_features("case-1", ct, organs, _volume(lesions, ct, {1: "lesion_1", 2: "lesion_2"}))

    assert [lesion.label for lesion in features.lesions] == [1, 2]
    assert [lesion.voxel_count for lesion in features.lesions] == [8, 8]


def test_couinaud_ids_read_from_liver_kg(loaded, synthetic):
    ct, organs = loaded
    segments = np.zeros(synthetic.shape, dtype=np.uint8)
    segments[10:25, 8:28, 5:18] = 6
    lesions = np.zeros(synthetic.shape, dtype=np.uint8)
    lesions[15:18, 12:15, 8:10] = 1
    features = compute_features(
        "case-1", ct, organs, _volume(lesions, ct, {1: "lesion_1"}), _volume(segments, ct, {6: "liver_segment_6"})
    )

    assert features.lesions[0].subregion == "segment_6"
