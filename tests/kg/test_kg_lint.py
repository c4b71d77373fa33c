"""`kg lint` on the shipped graphs and on seeded broken files with known lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.lint import lint_files, shipped_files

FIXTURES = Path(__file__).parent / "fixtures"
SEEDED = sorted(p for p in FIXTURES.glob("*.yaml") if p.name != "minimal_valid.yaml")


def expected_problems(path: Path) -> list[tuple[int, str]]:
    """Read the ``expect: LINE code; LINE code`` header that each seeded file carries."""
    header = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.search(r"expect: (.*)$", header)
    assert match, f"{path.name} has no 'expect:' header"
    pairs = [part.split() for part in match.group(1).split(";")]
    return [(int(line), code) for line, code in pairs]


def test_shipped_graphs_are_clean():
    problems = lint_files()
    assert problems == [], "\n".join(str(p) for p in problems)
    assert len(shipped_files()) == 5


def test_minimal_fixture_is_clean():
    assert lint_files([FIXTURES / "minimal_valid.yaml"]) == []


def test_every_seeded_file_is_checked():
    assert len(SEEDED) >= 12


@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_seeded_error_reported_at_line(path):
    problems = lint_files([path])
    found = [(p.line, p.code) for p in problems]
    assert found == expected_problems(path)
    for problem in problems:
        assert problem.file == str(path)
        assert str(problem).startswith(f"{path}:{problem.line}: {problem.code}: ")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("unknown_finding.yaml", "unknown finding 'hypodens'; did you mean 'hypodense'?"),
        ("unknown_fact.yaml", "did you mean 'nodes_positive'?"),
        ("unknown_structure.yaml", "did you mean 'common_hepatic_artery'?"),
        ("unknown_key.yaml", "did you mean 'synonyms'?"),
        ("duplicate_id.yaml", "already used on line 21"),
    ],
)
def test_seeded_error_suggests_fix(name, hint):
    messages = [p.message for p in lint_files([FIXTURES / name])]
    assert any(hint in m for m in messages), messages


def test_lint_reports_every_file_in_a_folder():
    problems = lint_files([FIXTURES])
    assert {Path(p.file).name for p in problems} == {p.name for p in SEEDED}


def test_missing_file_is_reported(tmp_path):
    problems = lint_files([tmp_path / "absent.yaml"])
    assert [p.code for p in problems] == ["missing-file"]


def test_duplicate_key_is_reported(tmp_path):
    text = (FIXTURES / "minimal_valid.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "dup.yaml"
    broken.write_text(text.replace("name: pancreas\n", "name: pancreas\nname: pancreas again\n", 1), encoding="utf-8")
    problems = lint_files([broken])
    assert ("duplicate-key", 4) in [(p.code, p.line) for p in problems]


def test_missing_chinese_synonym_is_reported(tmp_path):
    text = (FIXTURES / "minimal_valid.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "nozh.yaml"
    broken.write_text(text.replace("synonyms: {en: [head], zh: [胰头]}", "synonyms: {en: [head]}"), encoding="utf-8")
    problems = lint_files([broken])
    assert [(p.line, p.code) for p in problems] == [(12, "missing-synonym")]


def test_ambiguous_synonym_is_reported(tmp_path):
    text = (FIXTURES / "minimal_valid.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "ambiguous.yaml"
    broken.write_text(text.replace("synonyms: {en: [water density], zh: [囊性]}", "synonyms: {en: [hypoattenuating], zh: [囊性]}"), encoding="utf-8")
    codes = [p.code for p in lint_files([broken])]
    assert codes == ["ambiguous-synonym"]
