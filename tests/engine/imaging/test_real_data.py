"""Loading real CT, NIfTI masks, per-structure folders, DICOM series and DICOM SEG."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from engine.imaging import ImagingError, compute_features, load_ct, load_label_volume, write_nifti

TOTALSEG_TOTAL = {"spleen": 1, "liver": 5, "stomach": 6, "pancreas": 7, "duodenum": 19, "colon": 20}


@pytest.fixture(scope="module")
def example(shared_data):
    folder = shared_data / "totalseg_example"
    ct = load_ct(folder / "example_ct_sm.nii.gz", "example")
    organs = load_label_volume(folder / "example_seg.nii.gz", ct, case_id="example")
    return folder, ct, organs


def test_volumes_match_direct_voxel_count(example):
    folder, ct, organs = example
    image = nib.load(folder / "example_seg.nii.gz")
    raw = np.asarray(image.dataobj)
    voxel_ml = float(np.prod(image.header.get_zooms()[:3])) / 1000.0
    features = compute_features("example", ct, organs, organ_names=list(TOTALSEG_TOTAL) + ["esophagus"])

    for organ, label in TOTALSEG_TOTAL.items():
        measured = features.organ(organ)
        expected = int((raw == label).sum())
        assert measured.present
        assert measured.voxel_count == expected
        assert measured.volume_ml == pytest.approx(expected * voxel_ml, rel=1e-9)
    assert features.organ("liver").voxel_count == 38634
    assert not features.organ("esophagus").present
    assert features.organ("esophagus").volume_ml is None


def test_organ_box_and_hu_match_numpy(example):
    _, ct, organs = example
    liver = compute_features("example", ct, organs, organ_names=["liver"]).organ("liver")
    where = np.argwhere(organs.labels == 5)

    assert liver.bbox_voxel_xyz == (*where.min(axis=0).tolist(), *(where.max(axis=0) + 1).tolist())
    assert liver.bbox_norm_xyz == pytest.approx(tuple(np.r_[where.min(axis=0), where.max(axis=0) + 1] / np.r_[ct.shape_xyz, ct.shape_xyz]))
    assert liver.hu_mean == pytest.approx(float(ct.hu[organs.labels == 5].mean()), rel=1e-6)
    assert liver.hu_std == pytest.approx(float(ct.hu[organs.labels == 5].std()), rel=1e-5)
    assert liver.touches_edge  # the 30-slice crop cuts the liver


def test_structure_folder_gives_same_features(example, tmp_path):
    _, ct, organs = example
    for name, label in TOTALSEG_TOTAL.items():
        write_nifti((organs.labels == label).astype(np.uint8), ct.affine, tmp_path / f"{name}.nii.gz")
    (tmp_path / "statistics.json").write_text("{}")

    from_folder = load_label_volume(tmp_path, ct, case_id="example")
    names = list(TOTALSEG_TOTAL)
    assert compute_features("example", ct, from_folder, organ_names=names).organs == compute_features("example", ct, organs, organ_names=names).organs


def test_real_structure_folder_loads(example):
    folder, ct, _ = example
    organs = load_label_volume(folder / "segmentations", ct, case_id="example")
    features = compute_features("example", ct, organs, organ_names=["liver", "esophagus"])
    liver_file = np.asarray(nib.load(folder / "segmentations" / "liver.nii.gz").dataobj)

    assert organs.source_format == "folder"
    assert organs.label_of("liver") == 5
    assert features.organ("liver").voxel_count == int((liver_file > 0).sum())
    assert not features.organ("esophagus").present


def test_dicom_series_geometry(shared_data):
    ct = load_ct(shared_data / "totalseg_example" / "dicom", "dicom")

    assert ct.shape_xyz == (512, 512, 20)
    assert ct.spacing_mm_xyz == pytest.approx((0.9765625, 0.9765625, 2.0))  # SliceThickness stores 3 mm
    assert ct.source_orientation == "LPS"
    assert nib.aff2axcodes(ct.affine) == ("R", "A", "S")
    assert (ct.hu_min, ct.hu_max) == (-1024.0, 1839.0)


def test_dicom_series_matches_simpleitk(shared_data):
    import SimpleITK as sitk

    folder = shared_data / "totalseg_example" / "dicom"
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    reference = sitk.GetArrayFromImage(reader.Execute())  # (z, y, x) in LPS index order
    ct = load_ct(folder, "dicom")

    # LPS index axes x and y point left and posterior; RAS flips both.
    assert np.array_equal(ct.hu, reference.transpose(2, 1, 0)[::-1, ::-1, :].astype(np.float32))


def test_totalseg_output_on_dicom_grid(shared_data):
    folder = shared_data / "totalseg_example"
    ct = load_ct(folder / "dicom", "dicom")
    organs = load_label_volume(folder / "dicom_seg.nii.gz", ct, case_id="dicom")
    liver = compute_features("dicom", ct, organs, organ_names=["liver"]).organ("liver")

    assert [flag.code for flag in organs.flags] == ["orientation_mismatch"]  # LAS mask on an LPS series, reoriented
    assert 60 < liver.hu_mean < 200  # contrast-enhanced liver parenchyma, so the grids line up


def test_dicom_seg_on_dicom_series(shared_data):
    folder = shared_data / "dcmqi_liver_3slice"
    ct = load_ct(folder / "dicom", "dcmqi")
    organs = load_label_volume(folder / "liver_seg_dicomSEG.dcm", ct, case_id="dcmqi")
    nifti_mask = load_label_volume(folder / "liver_seg.nii.gz", ct, label_map={1: "liver"}, case_id="dcmqi")

    assert ct.shape_xyz == (512, 512, 3)
    assert ct.spacing_mm_xyz == pytest.approx((0.810547, 0.810547, 1.0), abs=1e-5)
    assert organs.names == {1: "liver"}
    assert organs.source_format == "dicom_seg"
    assert np.array_equal(organs.labels > 0, nifti_mask.labels > 0)
    assert float(ct.hu[organs.labels == 1].mean()) == pytest.approx(37.33, abs=0.01)


def test_dicom_seg_frames_placed_by_position(shared_data, tmp_path):
    import pydicom

    folder = shared_data / "dcmqi_liver_3slice"
    ct = load_ct(folder / "dicom", "dcmqi")
    dataset = pydicom.dcmread(folder / "liver_seg_dicomSEG.dcm")
    frames = dataset.pixel_array
    order = [2, 0, 1]
    dataset.PerFrameFunctionalGroupsSequence = pydicom.Sequence([dataset.PerFrameFunctionalGroupsSequence[i] for i in order])
    dataset.PixelData = pydicom.pixels.pack_bits(frames[order])
    dataset.save_as(tmp_path / "shuffled.dcm")

    shuffled = load_label_volume(tmp_path / "shuffled.dcm", ct, case_id="dcmqi")
    original = load_label_volume(folder / "liver_seg_dicomSEG.dcm", ct, case_id="dcmqi")
    assert not np.array_equal(frames[order], frames)
    assert np.array_equal(shuffled.labels, original.labels)


def test_binary_liver_mask_not_read_as_spleen(shared_data, tmp_path):
    folder = shared_data / "dcmqi_liver_3slice"
    ct = load_ct(folder / "ct.nii.gz", "dcmqi")
    for name in ("liver_seg.nii.gz", "liver_spine_seg.nii.gz"):
        with pytest.raises(ImagingError) as caught:
            load_label_volume(folder / name, ct, case_id="dcmqi")
        assert caught.value.reason_code == "invalid_manifest_row"
        assert caught.value.field == "label_map"
        assert name in str(caught.value)
        assert "'spleen'" in str(caught.value)

    label_map = tmp_path / "labels.json"
    label_map.write_text('{"1": "liver", "2": "spine"}', encoding="utf-8")
    masks = load_label_volume(folder / "liver_spine_seg.nii.gz", ct, label_map=str(label_map), case_id="dcmqi")
    liver = next(o for o in compute_features("dcmqi", ct, masks).organs if o.organ == "liver")
    assert liver.present
    assert liver.hu_mean == pytest.approx(37.33, abs=0.05)


def test_multilabel_named_after_present_label_loads(example, tmp_path):
    folder, ct, _ = example
    renamed = tmp_path / "liver_and_more_seg.nii.gz"
    renamed.write_bytes((folder / "example_seg.nii.gz").read_bytes())
    masks = load_label_volume(renamed, ct, case_id="example")
    assert masks.names[5] == "liver"
