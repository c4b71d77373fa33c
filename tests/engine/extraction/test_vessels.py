"""Vessel relations and invasion of neighbouring structures in radiology reports."""

from __future__ import annotations

import pytest

from engine.extraction import extract_report


def _relations(text, kgs, negated=False):
    features = extract_report(text, "case-1", kgs)
    return {(v.vessel, v.relation) for v in features.vessels if v.negated == negated}


@pytest.mark.parametrize(
    "text,vessel,relation",
    [
        ("The pancreatic head mass encases the common hepatic artery.", "common_hepatic_artery", "encasement"),
        ("Pancreatic body mass with encasement of the common hepatic artery.", "common_hepatic_artery", "encasement"),
        ("Pancreatic head mass with abutment of the superior mesenteric vein.", "superior_mesenteric_vein", "abutment"),
        ("A pancreatic head mass abutting the portal vein.", "portal_vein", "abutment"),
        ("The pancreatic mass is in contact with the SMV.", "superior_mesenteric_vein", "contact"),
        ("Pancreatic neck mass with occlusion of the splenic vein.", "splenic_vein", "occlusion"),
        ("Hepatocellular carcinoma in segment 8 with tumour thrombus in the right portal vein.", "right_portal_vein", "tumor_thrombus"),
        ("The pancreatic body mass is involving the coeliac axis.", "celiac_axis", "invasion"),
        ("The pancreatic tumour invading the superior mesenteric vein.", "superior_mesenteric_vein", "invasion"),
        ("Pancreatic head mass with <180 degrees contact with the SMV.", "superior_mesenteric_vein", "abutment"),
        ("The pancreatic body mass is in contact with the coeliac trunk over more than 180 degrees.", "celiac_axis", "encasement"),
        ("Pancreatic tail mass with narrowing of the splenic vein.", "splenic_vein", "encasement"),
        ("Pancreatic head carcinoma involving the truncus coeliacus.", "celiac_axis", "invasion"),
    ],
)
def test_vessel_relation_forms(text, vessel, relation, kgs):
    assert (vessel, relation) in _relations(text, kgs)


def test_coordinated_relations_keep_their_own_vessel(kgs):
    text = "A 2.3 x 1.8 cm hypoenhancing mass in the uncinate process abuts the SMV (<180 degrees) and encases the SMA."
    assert _relations(text, kgs) == {("superior_mesenteric_vein", "abutment"), ("superior_mesenteric_artery", "encasement")}


def test_vessel_resolved_in_lesion_organ(kgs):
    """'common hepatic artery' is a synonym of the liver KG's hepatic artery and the name of a pancreas KG vessel."""
    features = extract_report("The pancreatic head mass encases the common hepatic artery.", "case-1", kgs)
    assert [v.vessel for v in features.vessels] == ["common_hepatic_artery"]
    assert features.vessels[0].organ == "pancreas"


def test_sentence_without_organ_uses_last_lesion(kgs):
    features = extract_report("There is a 3 cm mass in the pancreatic body. It encases the CHA.", "case-1", kgs)
    assert [(v.vessel, v.organ) for v in features.vessels] == [("common_hepatic_artery", "pancreas")]


@pytest.mark.parametrize(
    "text,vessel",
    [
        ("Pancreatic head mass. No encasement of the SMA.", "superior_mesenteric_artery"),
        ("The pancreatic head mass does not encase the superior mesenteric artery.", "superior_mesenteric_artery"),
        ("Liver mass in segment 6. The portal vein is patent without tumour thrombus.", "portal_vein"),
        ("HCC in segment 7 with tumour thrombus in the right portal vein but not into the main portal vein.", "portal_vein"),
    ],
)
def test_negated_relation(text, vessel, kgs):
    assert vessel in {v for v, _ in _relations(text, kgs, negated=True)}
    assert vessel not in {v for v, _ in _relations(text, kgs)}


def test_bland_thrombus_is_only_possible(kgs):
    features = extract_report("Segment 8 liver mass. Thrombus within the portal vein.", "case-1", kgs)
    vessel = next(v for v in features.vessels if v.vessel == "portal_vein")
    assert vessel.relation == "tumor_thrombus"
    assert vessel.certainty == "possible"


@pytest.mark.parametrize(
    "text,vessel,relation",
    [
        ("胰头见一低密度肿块，包绕肠系膜上动脉。", "superior_mesenteric_artery", "encasement"),
        ("肝右叶S8段占位，考虑肝细胞癌，伴门静脉右支癌栓。", "right_portal_vein", "tumor_thrombus"),
        ("胰体部肿块侵犯腹腔干。", "celiac_axis", "invasion"),
    ],
)
def test_chinese_vessel_relations(text, vessel, relation, kgs):
    assert (vessel, relation) in _relations(text, kgs)


def test_invasion_of_other_organ_subregion(kgs):
    text = "Ill-defined thickening of the gastric antrum with loss of fat plane with the pancreatic head."
    features = extract_report(text, "case-1", kgs)
    assert [(i.structure, i.organ) for i in features.invasions] == [("pancreas", "stomach")]


def test_invasion_denied(kgs):
    text = "A 6 cm gastric mass displaces but does not invade the adjacent transverse colon and spleen."
    features = extract_report(text, "case-1", kgs)
    assert not [i for i in features.invasions if not i.negated]


def test_lowercase_abbreviation_is_not_vessel(kgs):
    features = extract_report("A pancreatic head mass measuring ca 3 cm encases nothing else; pv flow normal.", "case-1", kgs)
    assert features.vessels == ()


def test_thrombus_cue_governs_vein_before_extension(kgs):
    text = ("Segment 8 hepatocellular carcinoma. Enhancing tumor thrombus is present in the right portal vein, "
            "extending to but not into the main portal vein. Tumor in vein (LR-TIV) involving the right portal vein.")
    features = extract_report(text, "case-1", kgs)
    current = {(v.vessel, v.relation) for v in features.vessels if not v.negated}
    assert current == {("right_portal_vein", "tumor_thrombus")}
    assert "portal_vein" in {v.vessel for v in features.vessels if v.negated}


def test_obliterated_fat_plane_is_invasion(kgs):
    text = "Circumferential thickening of the distal oesophagus. Obliteration of the fat plane with the descending aorta over 90 degrees."
    assert ("aorta", "invasion") in _relations(text, kgs)
