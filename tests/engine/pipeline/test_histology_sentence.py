"""The histology step of the pathology level names an impression once when its histology has the same name."""

from __future__ import annotations

import pytest

from data_contracts import Chain, PathologyFeatures
from engine.qa.pathology import pathology_steps
from kg import load_all


@pytest.fixture(scope="module")
def kgs():
    return load_all()


def _histology_step(kg, impression_id: str, pathology: PathologyFeatures | None):
    chain = Chain(chain_id=f"c/{kg.organ}/L1", case_id="c", organ=kg.organ, lesion_ids=("rep-L1",), impression_id=impression_id)
    return next(s for s in pathology_steps(chain, kg, None, {}, pathology) if s.triplet.predicate == "histology")


def test_same_name_confirmed_by_pathology(kgs):
    pathology = PathologyFeatures(case_id="c", organ="liver", histology="hepatocellular_carcinoma", malignant=True)
    step = _histology_step(kgs["liver"], "hcc", pathology)

    assert step.sentence == "Histology confirms hepatocellular carcinoma."


def test_same_name_without_pathology_claims_no_confirmation(kgs):
    step = _histology_step(kgs["liver"], "hcc", None)

    assert "confirms" not in step.sentence
    assert step.sentence.lower().count("hepatocellular carcinoma") == 1


def test_kg_synonym_counts_as_same_name(kgs):
    # The pancreas KG resolves "pancreatic ductal adenocarcinoma" to the ductal_adenocarcinoma endpoint.
    pathology = PathologyFeatures(case_id="c", organ="pancreas", histology="ductal_adenocarcinoma", malignant=True)
    step = _histology_step(kgs["pancreas"], "pdac", pathology)

    assert step.sentence == "Histology confirms pancreatic ductal adenocarcinoma."


def test_different_names_keep_both(kgs):
    # The liver KG does not resolve "hepatic hemangioma" to the cavernous_hemangioma endpoint.
    step = _histology_step(kgs["liver"], "hemangioma", None)

    assert step.sentence == "Hepatic hemangioma corresponds to the histology cavernous hemangioma."


def test_discordant_pathology_claims_no_confirmation(kgs):
    pathology = PathologyFeatures(case_id="c", organ="liver", histology="intrahepatic_cholangiocarcinoma", malignant=True)
    step = _histology_step(kgs["liver"], "hcc", pathology)

    assert "confirms" not in step.sentence
