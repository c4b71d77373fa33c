"""Broken CT inputs: non-HU values, corrupt files, qform/sform disagreement, DICOM faults."""

from __future__ import annotations

import gzip
import shutil

import nibabel as nib
import numpy as np
import pytest

from engine.imaging import ImagingError, load_ct, write_nifti


def _reason(path, case_id="case-1") -> ImagingError:
    with pytest.raises(ImagingError) as caught:
        load_ct(path, case_id)
    return caught.value


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(lambda ct: ((ct + 1000.0) / 3000.0).astype(np.float32), id="normalized_0_1"),
        pytest.param(lambda ct: np.clip((ct + 1000) / 12, 0, 255).astype(np.uint8), id="scaled_0_255"),
        pytest.param(lambda ct: (ct + 1024).astype(np.uint16), id="missing_rescale"),
        pytest.param(lambda ct: ((ct - ct.mean()) / ct.std()).astype(np.float32), id="z_score"),
    ],
)
def test_non_hu_ct_rejected(tmp_path, synthetic, values):
    path = write_nifti(values(synthetic.ct().astype(np.float64)), synthetic.affine, tmp_path / "ct.nii.gz")
    error = _reason(path)

    assert error.reason_code == "not_hu"
    assert "case-1" in str(error)
    assert str(path) in str(error)


def test_corrupt_gzip_rejected(tmp_path, case_files):
    ct_path, _ = case_files
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(ct_path.read_bytes()[:2000])
    error = _reason(broken)

    assert error.reason_code == "corrupt_file"
    assert error.file == str(broken)
    assert "broken.nii.gz" in str(error)


def test_truncated_uncompressed_nifti_rejected(tmp_path, case_files):
    ct_path, _ = case_files
    full = tmp_path / "full.nii"
    with gzip.open(ct_path) as source, open(full, "wb") as target:
        shutil.copyfileobj(source, target)
    truncated = tmp_path / "truncated.nii"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])

    assert _reason(truncated).reason_code == "corrupt_file"


def test_missing_ct_rejected(tmp_path):
    error = _reason(tmp_path / "absent.nii.gz")
    assert error.reason_code == "missing_file"


def test_qform_sform_mismatch_flagged_sform_used(tmp_path, synthetic):
    image = nib.Nifti1Image(synthetic.ct(), synthetic.affine)
    shifted = synthetic.affine.copy()
    shifted[0, 3] += 5.0
    image.set_sform(synthetic.affine, code=1)
    image.set_qform(shifted, code=1)
    path = tmp_path / "ct.nii.gz"
    nib.save(image, path)

    ct = load_ct(path, "case-1")
    assert [flag.code for flag in ct.flags] == ["qform_sform_mismatch"]
    assert np.allclose(ct.affine, synthetic.affine)


def test_qform_used_without_sform(tmp_path, synthetic):
    image = nib.Nifti1Image(synthetic.ct(), synthetic.affine)
    image.set_sform(np.eye(4), code=0)
    image.set_qform(synthetic.affine, code=1)
    path = tmp_path / "ct.nii.gz"
    nib.save(image, path)

    ct = load_ct(path, "case-1")
    assert ct.flags == ()
    assert np.allclose(ct.affine, synthetic.affine, atol=1e-5)


def test_lps_ct_reoriented_to_ras(tmp_path, synthetic):
    lps_affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ synthetic.affine
    lps_affine[:3, 3] = synthetic.affine[:3, :3] @ (np.array(synthetic.shape) - 1) * [1, 1, 0] + synthetic.affine[:3, 3]
    lps_affine[:3, 3] *= [-1, -1, 1]
    flipped = synthetic.ct()[::-1, ::-1, :]
    path = write_nifti(np.ascontiguousarray(flipped), lps_affine, tmp_path / "ct.nii.gz")

    ct = load_ct(path, "case-1")
    assert ct.source_orientation == "LPS"
    assert nib.aff2axcodes(ct.affine) == ("R", "A", "S")
    assert np.array_equal(ct.hu, synthetic.ct().astype(np.float32))


@pytest.fixture
def dicom_copy(shared_data, tmp_path):
    source = shared_data / "totalseg_example" / "dicom"
    target = tmp_path / "dicom"
    shutil.copytree(source, target)
    return target


def test_dicom_missing_slice_rejected(dicom_copy):
    files = sorted(dicom_copy.iterdir())
    import pydicom

    positions = sorted(files, key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))
    positions[10].unlink()
    error = _reason(dicom_copy)

    assert error.reason_code == "uneven_slice_spacing"
    assert error.field == "ImagePositionPatient"


def test_dicom_truncated_codestream_names_file(dicom_copy):
    import pydicom
    from pydicom.encaps import encapsulate, generate_fragmented_frames

    victim = sorted(dicom_copy.iterdir())[5]
    dataset = pydicom.dcmread(victim)
    frame = b"".join(next(generate_fragmented_frames(dataset.PixelData)))
    dataset.PixelData = encapsulate([frame[: len(frame) // 3]])
    dataset.save_as(victim)
    error = _reason(dicom_copy)

    assert error.reason_code == "corrupt_file"
    assert error.file == str(victim)
    assert victim.name in str(error)


def test_dicom_without_rescale_rejected_not_hu(dicom_copy):
    import pydicom

    for path in dicom_copy.iterdir():
        dataset = pydicom.dcmread(path)
        del dataset.RescaleIntercept
        del dataset.RescaleSlope
        dataset.save_as(path)

    assert _reason(dicom_copy).reason_code == "not_hu"


def test_dicom_garbage_file_rejected(dicom_copy):
    victim = sorted(dicom_copy.iterdir())[3]
    victim.write_bytes(victim.read_bytes()[:400])

    assert _reason(dicom_copy).reason_code == "corrupt_file"


def test_rejection_message_names_case_file_and_field(tmp_path, synthetic):
    four_d = np.stack([synthetic.ct(), synthetic.ct()], axis=-1).astype(np.int16)
    cases = {
        "4d": write_nifti(four_d, synthetic.affine, tmp_path / "ct4d.nii.gz"),
        "normalized": write_nifti((synthetic.ct() > 0).astype(np.float32), synthetic.affine, tmp_path / "norm.nii.gz"),
        "extension": tmp_path / "ct.txt",
    }
    cases["extension"].write_bytes(b"not a CT")
    for name, path in cases.items():
        error = _reason(path, f"case-{name}")
        assert error.field, name
        assert f"case 'case-{name}'" in str(error)
        assert f"file {path}" in str(error)
        assert f"field {error.field}" in str(error)
