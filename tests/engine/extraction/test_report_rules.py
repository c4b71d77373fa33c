"""Rules backend on short reports: negation scopes, uncertainty and history, units, consistency, languages."""

from __future__ import annotations

import pytest

from engine.extraction import extract_report
from engine.extraction.validate import validate_report


def _extract(text, kgs):
    return validate_report(extract_report(text, "case-1", kgs), text, kgs)


def _lesions(features, organ):
    return [lesion for lesion in features.lesions if lesion.organ == organ]


@pytest.mark.parametrize(
    "text,organ",
    [
        ("There is no evidence of a hepatic mass.", "liver"),
        ("The liver is enlarged without focal liver lesion.", "liver"),
        ("No pancreatic mass or cyst is seen.", "pancreas"),
        ("No enhancing solid hepatic mass.", "liver"),
        ("The pancreas is negative for malignancy.", "pancreas"),
        ("No focal liver lesion.", "liver"),
    ],
)
def test_negated_lesion(text, organ, kgs):
    lesions = _lesions(_extract(text, kgs), organ)
    assert lesions, "the negated mention should still be reported"
    assert all(lesion.negated for lesion in lesions)


def test_no_x_or_y_negates_both(kgs):
    features = _extract("No hepatic mass or pancreatic lesion.", kgs)
    assert {lesion.organ for lesion in features.lesions} == {"liver", "pancreas"}
    assert all(lesion.negated for lesion in features.lesions)


@pytest.mark.parametrize(
    "text,certainty",
    [
        ("Hypodense liver lesion in segment 6; metastasis cannot be excluded.", "possible"),
        ("Probable metastasis in segment 6 of the liver.", "probable"),
        ("A 2 cm hepatic lesion suspicious for metastasis.", "probable"),
    ],
)
def test_uncertain_not_definite(text, certainty, kgs):
    lesion = _lesions(_extract(text, kgs), "liver")[0]
    assert lesion.impression_id == "metastasis"
    assert lesion.certainty == certainty
    assert not lesion.negated


@pytest.mark.parametrize("text", ["Status post resection of a pancreatic tumor.", "History of hepatocellular carcinoma."])
def test_history_not_current(text, kgs):
    features = _extract(text, kgs)
    assert features.lesions
    assert all(lesion.historical for lesion in features.lesions)


def test_nodes_zero_and_negated(kgs):
    features = _extract("No enlarged lymph nodes. A 12 mm peripancreatic lymph node.", kgs)
    assert features.nodes[0].negated and features.nodes[0].count == 0
    assert features.nodes[1].short_axis_mm == 12.0
    assert features.nodes[1].suspicious
    assert features.nodes[1].station == "peripancreatic"


def test_cm_for_mm_flagged_not_rescaled(kgs):
    features = _extract("There is a 45 cm hypodense mass in the pancreatic head.", kgs)
    lesion = _lesions(features, "pancreas")[0]
    assert lesion.max_diameter_mm == 450.0
    assert "implausible_size" in [flag.code for flag in features.flags]


@pytest.mark.parametrize(
    "text,organ",
    [
        ("A 30 cm pancreatic mass, consistent with pancreatic adenocarcinoma.", "pancreas"),
        ("Hepatocellular carcinoma measuring 45 cm in segment 6.", "liver"),
        ("Lower oesophageal squamous cell carcinoma, 35 cm in length.", "esophagus"),
        ("胃窦癌，大小约30cm。", "stomach"),
    ],
)
def test_implausible_size_kept_out_of_staging(text, organ, kgs):
    from engine.staging_facts import facts_for_organ, stage_case

    features = extract_report(text, "case-1", kgs)
    flags = [flag for flag in features.flags if flag.code == "implausible_size"]
    assert len(flags) == 1
    assert organ in flags[0].message
    assert _lesions(features, organ)[0].max_diameter_mm >= 300
    assert "max_diameter_mm" not in facts_for_organ(organ, features, None, kgs[organ])


def test_implausible_size_leaves_t_undecided(kgs):
    from engine.staging_facts import stage_case

    features = extract_report("A 30 cm pancreatic mass, consistent with pancreatic adenocarcinoma.", "case-1", kgs)
    assert stage_case(features, None, kgs)["pancreas"].T == "TX"


def test_implausible_pathology_size_flagged(kgs):
    from engine.extraction import extract_pathology
    from engine.extraction.validate import validate_pathology
    from engine.staging_facts import facts_for_organ

    text = "Pancreas, Whipple: ductal adenocarcinoma. Tumor size: 28 cm. Lymph nodes: 0/12."
    pathology = validate_pathology(extract_pathology(text, "case-1", kgs), text, kgs)
    assert pathology.tumor_size_mm == 280.0
    assert [flag.code for flag in pathology.flags] == ["implausible_size"]
    assert "max_diameter_mm" not in facts_for_organ("pancreas", None, pathology, kgs["pancreas"])


def test_primary_size_from_unlinked_mention(kgs):
    from engine.staging_facts import facts_for_organ

    text = "PANCREATIC ADENOCARCINOMA. A 3.0 x 4.0 cm heterogeneously enhancing mass is seen at the region of the pancreatic neck."
    facts = facts_for_organ("pancreas", extract_report(text, "case-1", kgs), None, kgs["pancreas"])
    assert facts["max_diameter_mm"] == 40.0


def test_largest_axis_kept_not_sum(kgs):
    features = _extract("A 2.4 x 3.4 x 2.7 cm mass in the pancreatic head.", kgs)
    lesion = _lesions(features, "pancreas")[0]
    assert lesion.max_diameter_mm == 34.0
    assert lesion.sizes_mm == (34.0, 27.0, 24.0)


def test_range_keeps_upper_bound(kgs):
    lesion = _lesions(_extract("A 2-3 cm hypodense lesion in segment 6 of the liver.", kgs), "liver")[0]
    assert lesion.max_diameter_mm == 30.0


def test_several_lesions_stay_separate(kgs):
    text = "A 2 cm cyst in segment 2 of the liver. A 5 cm hepatocellular carcinoma in segment 7 of the liver."
    lesions = _lesions(_extract(text, kgs), "liver")
    assert [lesion.max_diameter_mm for lesion in lesions] == [20.0, 50.0]
    assert [lesion.finding_id for lesion in lesions] == ["rep-L1", "rep-L2"]


@pytest.mark.parametrize(
    "text,region",
    [
        ("Lesion in segment V of the liver.", "segment_5"),
        ("Lesion in liver segment 6.", "segment_6"),
        ("Lesion in segment two of the liver.", "segment_2"),
        ("Mass in the uncinate process of the pancreas.", "uncinate_process"),
        ("Mass in the pancreatic tail.", "tail"),
        ("Mass along the lesser curvature of the stomach.", "lesser_curvature"),
        ("Mass in the sigmoid colon.", "sigmoid_colon"),
        ("Mass in the distal esophagus.", "lower_thoracic"),
    ],
)
def test_subregion_resolved(text, region, kgs):
    features = _extract(text, kgs)
    assert region in features.lesions[0].subregions


def test_attributes_are_kg_terms(kgs):
    lesion = _extract("An ill-defined hypoenhancing hypodense mass in the pancreatic head.", kgs).lesions[0]
    assert lesion.density == "hypodense"
    assert lesion.boundary == "ill_defined"
    assert "hypoenhancing" in lesion.enhancement


def test_inconsistent_location_flagged(kgs):
    text = "FINDINGS: A 3.2 cm hypodense mass in segment 6 of the liver.\nIMPRESSION: 3.2 cm mass in segment 2 of the liver, likely metastasis."
    features = _extract(text, kgs)
    assert "inconsistent_location" in [flag.code for flag in features.flags]


def test_inconsistent_organ_flagged(kgs):
    text = "FINDINGS: A 3.2 cm hypodense mass in the pancreatic head.\nCONCLUSION: 3.2 cm mass in the liver."
    assert "inconsistent_location" in [flag.code for flag in _extract(text, kgs).flags]


def test_consistent_report_not_flagged(kgs):
    text = "FINDINGS: A 3.2 cm hypodense mass in segment 6 of the liver.\nIMPRESSION: 3.2 cm segment 6 liver mass."
    assert "inconsistent_location" not in [flag.code for flag in _extract(text, kgs).flags]


def test_vessels_and_invasion(kgs):
    text = "A 3 cm pancreatic head mass encases the superior mesenteric artery and abuts the portal vein. It invades the duodenum."
    features = _extract(text, kgs)
    relations = {(v.vessel, v.relation) for v in features.vessels}
    assert ("superior_mesenteric_artery", "encasement") in relations
    assert ("portal_vein", "abutment") in relations
    assert "duodenum" in {i.structure for i in features.invasions}


def test_metastasis_negated(kgs):
    features = _extract("Hypodense mass in the pancreatic body. No liver metastases.", kgs)
    assert [(m.site, m.negated) for m in features.metastases] == [("liver", True)]


def test_evidence_matches_text(kgs):
    text = "A 3.0 x 4.0 cm heterogeneously enhancing mass is seen at the region of the pancreatic neck."
    features = _extract(text, kgs)
    spans = [item.span for lesion in features.lesions for item in lesion.evidence]
    assert spans
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert {item.field for item in features.lesions[0].evidence} >= {"lesion", "max_diameter_mm", "subregions"}


def test_chinese_report(kgs):
    text = "胰头见一低密度肿块，大小约3.2厘米，边界不清。肝内未见明确病灶。"
    features = _extract(text, kgs)
    assert features.language == "zh"
    pancreas = _lesions(features, "pancreas")[0]
    assert "head" in pancreas.subregions
    assert pancreas.max_diameter_mm == 32.0
    assert pancreas.density == "hypodense"
    assert all(lesion.negated for lesion in _lesions(features, "liver"))


def test_unsupported_language_flagged(kgs):
    features = _extract("В головке поджелудочной железы гиподенсное образование размером 3 см.", kgs)
    assert features.lesions == ()
    assert [flag.code for flag in features.flags] == ["unsupported_language"]


def test_empty_text_flagged(kgs):
    features = extract_report("   ", "case-1", kgs)
    assert [flag.code for flag in features.flags] == ["report_empty"]


def test_long_text_does_not_crash(kgs):
    text = "Hypodense mass in the pancreatic head measuring 3 cm. No liver lesion.\n" * 400
    features = extract_report(text, "case-1", kgs)
    assert features.lesions


def test_chinese_negation_stays_in_its_clause(kgs):
    features = _extract("肝内未见明确占位，胰头见一低密度肿块。", kgs)
    assert [lesion.negated for lesion in _lesions(features, "pancreas")] == [False]
    assert all(lesion.negated for lesion in _lesions(features, "liver"))


@pytest.mark.parametrize(
    "text,organ,regions",
    [
        ("Segment VII/VIII arterially enhancing lesion with washout.", "liver", {"segment_7", "segment_8"}),
        ("Hypodense lesions in segments VI and VII of the liver.", "liver", {"segment_6", "segment_7"}),
        ("A 3.5 cm mass in the anterior segment of the right lobe of the liver.", "liver", {"segment_5", "segment_8"}),
        ("肝右前叶见一低密度肿块。", "liver", {"segment_5", "segment_8"}),
        ("Tight stenosis in the medial portion of the oesophagus.", "esophagus", {"middle_thoracic"}),
        ("Mass in the mid-esophagus.", "esophagus", {"middle_thoracic"}),
        ("Distal oesophageal mass extending to the GE junction.", "esophagus", {"lower_thoracic", "abdominal"}),
    ],
)
def test_subregion_lists_and_sections(text, organ, regions, kgs):
    lesion = _lesions(_extract(text, kgs), organ)[0]
    assert regions <= set(lesion.subregions)


@pytest.mark.parametrize(
    "text,organ,impression",
    [
        ("Distal esophageal carcinoma.", "esophagus", None),
        ("Oesophageal cancer in the lower third.", "esophagus", None),
        ("食管下段癌。", "esophagus", None),
        ("胃窦癌。", "stomach", "gastric_adenocarcinoma"),
        ("Pancreatic body carcinoma with arterial encasement.", "pancreas", "pdac"),
        ("Caecal carcinoma with two liver metastases.", "colon", "colorectal_adenocarcinoma"),
        ("Mid rectal adenocarcinoma.", "colon", "colorectal_adenocarcinoma"),
        ("Distal oesophageal adenocarcinoma.", "esophagus", "esophageal_adenocarcinoma"),
        ("Mid-oesophageal squamous cell carcinoma.", "esophagus", "esophageal_scc"),
        ("Pancreatic carcinoma in the head.", "pancreas", "pdac"),
        ("Sigmoid colon cancer.", "colon", "colorectal_adenocarcinoma"),
    ],
)
def test_generic_carcinoma_guesses_no_histology(text, organ, impression, kgs):
    lesions = _lesions(_extract(text, kgs), organ)
    assert lesions
    assert lesions[0].impression_id == impression


@pytest.mark.parametrize(
    "text,count,multiple",
    [
        ("Two lesions in the left lobe are consistent with simple cysts.", 2, True),
        ("There are three hypodense lesions in the liver.", 3, True),
        ("There are 2 lesions in the liver.", 2, True),
        ("Multiple (at least 4) hypodense liver lesions.", 4, True),
        ("Several hepatic cysts.", None, True),
        ("A segment 6 lesion of the liver.", None, False),
        ("S7/8 lesion in the liver.", None, False),
        ("肝内见两个囊性病灶。", 2, True),
        ("肝内多发低密度结节。", None, True),
    ],
)
def test_lesion_count(text, count, multiple, kgs):
    lesion = _lesions(_extract(text, kgs), "liver")[0]
    assert lesion.count == count
    assert lesion.multiple is multiple


def test_generic_carcinoma_is_malignant_primary(kgs):
    from engine.staging_facts import stage_case

    features = _extract("Distal esophageal carcinoma, 4 cm in length. No distant metastases.", kgs)
    lesion = _lesions(features, "esophagus")[0]
    assert lesion.impression_id is None
    assert lesion.malignant is True
    assert stage_case(features, None, kgs)["esophagus"].M == "M0"


def test_benign_impression_not_malignant(kgs):
    lesion = _lesions(_extract("A 2 cm hemangioma in segment 6 of the liver.", kgs), "liver")[0]
    assert lesion.malignant is False


@pytest.mark.parametrize(
    "text,code",
    [
        ("", "report_empty"),
        ("  \n\t ", "report_empty"),
        ("Hypodense mass in the pancreatic head measuring 3 cm. " * 200_000, "report_too_large"),
        ("\x00\x01\x02 mass \x03\x04" * 10, "report_binary"),
        ("Im Pankreaskopf zeigt sich eine hypodense Raumforderung von 3 cm Größe. Keine Lebermetastasen.", "unsupported_language"),
        ("Masse hypodense de la tête du pancréas mesurant 3 cm, évocatrice d'un adénocarcinome.", "unsupported_language"),
        ("🙂" * 100, "unsupported_language"),
    ],
)
def test_bad_input_gives_flag_not_crash(text, code, kgs):
    from engine.extraction import extract_pathology

    report = extract_report(text, "case-1", kgs)
    assert [flag.code for flag in report.flags] == [code]
    assert report.lesions == ()
    pathology = extract_pathology(text, "case-1", kgs)
    assert [flag.code for flag in pathology.flags] == [code]
    assert pathology.histology is None


def test_organ_heading_then_no_negates(kgs):
    features = _extract("Pancreas: No pancreatic mass.\nStomach: No gastric wall thickening.\nLymph nodes: No lymphadenopathy.", kgs)
    assert features.lesions
    assert all(lesion.negated for lesion in features.lesions)
    assert all(node.negated for node in features.nodes)


@pytest.mark.parametrize(
    "text,count",
    [
        ("A 3.5 cm hepatocellular carcinoma in segment 8 of the liver.", 1),
        ("Hepatocellular carcinoma in segment 8 (4 cm) and hepatocellular carcinoma in segment 2 (2 cm).", 2),
        ("FINDINGS: A 2.2 cm hypodense lesion in segment 4 of the liver. A 5.5 cm lesion in segment 8 of the liver.\n"
         "IMPRESSION: Two lesions consistent with hepatocellular carcinoma, the largest 55 mm in segment 8.", 2),
        ("A 5.5 cm hepatocellular carcinoma in segment 8. A 1 cm indeterminate lesion in segment 2 of the liver.", None),
        ("Multiple hepatocellular carcinomas in the right lobe of the liver.", None),
    ],
)
def test_tumor_count_fact(text, count, kgs):
    from engine.staging_facts import facts_for_organ

    facts = facts_for_organ("liver", _extract(text, kgs), None, kgs["liver"])
    assert facts.get("tumor_count") == count


def test_report_metastasis_sites_reach_facts(kgs):
    from engine.staging_facts import facts_for_organ

    text = "FINDINGS: There is a 4.2 cm polypoid mass in the caecum. Two liver metastases in segment 5 and segment 8.\nConclusion: Caecal carcinoma."
    features = _extract(text, kgs)
    liver = _lesions(features, "liver")[0]
    assert (liver.impression_id, liver.count) == ("metastasis", 2)
    facts = facts_for_organ("colon", features, None, kgs["colon"])
    assert facts["metastasis_sites"] == ["liver"]


def test_malignancy_word_marks_linked_lesion(kgs):
    features = _extract("4.0 cm gastric antral mass, concerning for malignancy.", kgs)
    lesions = _lesions(features, "stomach")
    assert len(lesions) == 1
    assert lesions[0].malignant is True
    assert lesions[0].certainty != "definite"


def test_sitewide_negated_metastasis_gives_m0(kgs):
    from engine.staging_facts import stage_case

    features = _extract("2.7 cm pancreatic head adenocarcinoma. No evidence of metastatic disease.", kgs)
    assert [(m.site, m.negated) for m in features.metastases] == [("distant", True)]
    assert stage_case(features, None, kgs)["pancreas"].M == "M0"


def test_chinese_focus_and_metastasis_words(kgs):
    features = _extract("乙状结肠肠壁不规则增厚，范围约5.5cm。肝内见多发低密度灶，较大者约2.3cm，考虑转移。诊断：乙状结肠癌并肝多发转移。", kgs)
    liver = _lesions(features, "liver")
    assert [(lesion.impression_id, lesion.certainty, lesion.multiple) for lesion in liver] == [("metastasis", "definite", True)]
    assert liver[0].max_diameter_mm == 23.0


def test_unit_slip_in_one_mention_flagged_and_skipped(kgs):
    from engine.staging_facts import facts_for_organ

    text = "FINDINGS: A 3.2 cm hypodense mass in the pancreatic head.\nIMPRESSION: 32 cm pancreatic head mass, consistent with pancreatic adenocarcinoma."
    features = _extract(text, kgs)
    lesions = _lesions(features, "pancreas")
    assert len(lesions) == 1
    assert lesions[0].max_diameter_mm == 32.0
    assert [flag.code for flag in features.flags].count("implausible_size") == 1
    assert facts_for_organ("pancreas", features, None, kgs["pancreas"])["max_diameter_mm"] == 32.0


@pytest.mark.parametrize(
    "text,organ,impression,regions",
    [
        ("There is a 1.2 cm arterially enhancing observation in segment 4b with washout, LR-5.", "liver", "hcc", ("segment_4b",)),
        ("Segment VII/VIII arterially enhancing lesion with washout measuring up to 4.1 cm, LI-RADS 5.", "liver", "hcc", ("segment_7", "segment_8")),
        ("Liver: Few subcentimeter hypodensities too small to characterize.", "liver", None, ()),
        ("胰头区见一团块影，大小约2.5cm。", "pancreas", None, ("head",)),
    ],
)
def test_more_lesion_words(text, organ, impression, regions, kgs):
    lesion = _lesions(_extract(text, kgs), organ)[0]
    assert lesion.impression_id == impression
    assert lesion.subregions == regions
