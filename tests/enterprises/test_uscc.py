"""Tests for enterprises.uscc (统一社会信用代码, domain.md §1). No database, no Django settings."""

import random

import pytest

from enterprises import uscc
from enterprises.uscc import (
    ALPHABET,
    USCCError,
    USCCResult,
    check_character,
    is_valid,
    make_uscc,
    normalize,
    org_code_check,
    validate,
    validate_uscc_field,
)

# --- domain.md §1 test vectors -------------------------------------------------------------------

VALID = [
    "914403001922038216",  # 华为技术有限公司
    "911000001000013428",  # 中国银行股份有限公司
    "91100000100003962T",  # 中国工商银行股份有限公司
    "91110000710925462X",  # 中国石油天然气股份有限公司
    "91350100M000100Y43",  # the standard's worked example
]


@pytest.mark.parametrize("code", VALID)
def test_valid_vectors(code):
    result = validate(code)
    assert isinstance(result, USCCResult)
    assert result.code == code
    assert result.warnings == ()
    assert is_valid(code)


@pytest.mark.parametrize(
    ("code", "expected", "actual"),
    [
        ("91100000100003962A", "T", "A"),  # ICBC's, last character changed
        ("914403001922038217", "6", "7"),  # Huawei's, last character changed
    ],
)
def test_check_character_vectors(code, expected, actual):
    with pytest.raises(USCCError) as info:
        validate(code)
    assert info.value.code == "check"
    assert info.value.message == f"校验码错误：第 18 位应为“{expected}”，实际为“{actual}”"
    assert str(info.value) == info.value.message
    assert not is_valid(code)


@pytest.mark.parametrize(
    ("code", "position", "char"),
    [
        ("91350100M000100Y4Z", 18, "Z"),  # contains Z
        ("9111000060003IOZSV", 14, "I"),  # contains I, O, Z, S, V: first one reported
    ],
)
def test_charset_vectors(code, position, char):
    with pytest.raises(USCCError) as info:
        validate(code)
    assert info.value.code == "charset"
    assert f"第 {position} 位字符“{char}”不合法" in info.value.message
    assert "I、O、S、V、Z" in info.value.message


def test_position_17_failure_is_a_warning_not_a_refusal():
    result = validate("91310000631295002H")
    assert result.code == "91310000631295002H"
    assert result.has_warnings
    assert len(result.warnings) == 1
    assert result.warnings[0] == (
        "第 17 位组织机构代码校验位不符（应为“1”），2016 年前登记的部分代码存在此情况，请人工核实"
    )
    assert is_valid("91310000631295002H")


def test_worked_example_sum():
    # S = 1640, 1640 mod 31 = 28, 31 - 28 = 3
    first17 = "91350100M000100Y4"
    assert sum(ALPHABET.index(c) * w for c, w in zip(first17, uscc.WEIGHTS, strict=True)) == 1640
    assert check_character(first17) == "3"


def test_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS == tuple(pow(3, i, 31) for i in range(17))
    assert len(ALPHABET) == 31
    assert not set("IOSVZ") & set(ALPHABET)


def test_result_fields():
    result = validate("91110000710925462X")
    assert (result.department, result.category, result.division, result.org_code) == (
        "9",
        "1",
        "110000",
        "710925462",
    )
    with pytest.raises(AttributeError):
        result.code = "x"  # frozen


# --- organisation code (GB 11714) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code8", "check"),
    [("19220382", "1"), ("10000134", "2"), ("10000396", "2"), ("71092546", "2"), ("M000100Y", "4")],
)
def test_org_code_check_on_vectors(code8, check):
    assert org_code_check(code8) == check


def test_org_code_check_x_and_zero():
    # Find 8-digit bodies that give remainder 1 (-> 10 -> 'X') and 0 (-> 11 -> '0').
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    seen = {}
    for n in range(200):
        body = f"{n:08d}"
        remainder = sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
        seen.setdefault(remainder, body)
    assert org_code_check(seen[1]) == "X"
    assert org_code_check(seen[0]) == "0"
    assert org_code_check("00000000") == "0"


def test_org_code_check_uses_full_alphabet():
    # I, O, S, V, Z are legal in GB 11714 (A=10 ... Z=35), unlike GB 32100.
    assert org_code_check("ZZZZZZZZ") in "0123456789X"
    with pytest.raises(ValueError):
        org_code_check("1234567")
    with pytest.raises(ValueError):
        org_code_check("1234567-")


def test_check_character_rejects_bad_input():
    with pytest.raises(ValueError):
        check_character("91350100M000100Y")  # 16 characters
    with pytest.raises(ValueError):
        check_character("91350100M000100YZ")  # Z not in the set


# --- normalisation -----------------------------------------------------------------------------------


def test_lower_case_accepted():
    result = validate("91350100m000100y43")
    assert result.code == "91350100M000100Y43"
    assert is_valid("91110000710925462x")


def test_full_width_accepted_and_normalised():
    raw = "９１３５０１００Ｍ０００１００Ｙ４３"
    assert normalize(raw) == "91350100M000100Y43"
    assert validate(raw).code == "91350100M000100Y43"


def test_full_width_lower_case():
    assert normalize("９１３５０１００ｍ０００１００ｙ４３") == "91350100M000100Y43"


def test_spaces_inside_stripped():
    raw = " 9135 0100\tM000\u3000100Y43\n"
    assert normalize(raw) == "91350100M000100Y43"
    assert validate(raw).code == "91350100M000100Y43"


def test_zero_width_characters_stripped():
    assert normalize("\ufeff91350100M000100Y43\u200b") == "91350100M000100Y43"


def test_normalize_does_not_grow_length():
    assert normalize("ß") == "ß"


# --- hard rules, in order ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433"])
def test_wrong_length(code):
    with pytest.raises(USCCError) as info:
        validate(code)
    assert info.value.code == "length"
    assert info.value.message == f"统一社会信用代码应为 18 位，当前为 {len(code)} 位"


def test_empty_is_length_error():
    with pytest.raises(USCCError) as info:
        validate("   ")
    assert info.value.code == "length"
    assert "当前为 0 位" in info.value.message


def test_non_ascii_character_is_charset_error():
    with pytest.raises(USCCError) as info:
        validate("91350100M000100Y4中")
    assert info.value.code == "charset"
    assert "第 18 位字符“中”不合法" in info.value.message


def test_division_with_letter():
    code = "9135010AM000100Y43"  # position 8 is 'A'
    with pytest.raises(USCCError) as info:
        validate(code)
    assert info.value.code == "division"
    assert info.value.message.startswith("第 3–8 位（登记管理机关行政区划码）必须是数字")
    assert "第 8 位为“A”" in info.value.message


@pytest.mark.parametrize("position", range(3, 9))
def test_division_letter_at_each_position(position):
    code = list(make_uscc(body="123456780"))
    code[position - 1] = "B"
    code[17] = check_character("".join(code[:17]))  # even with a correct check character
    with pytest.raises(USCCError) as info:
        validate("".join(code))
    assert info.value.code == "division"


def test_department_zero():
    first17 = "01350100M000100Y4"
    code = first17 + check_character(first17)  # correct position 18, so only position 1 fails
    with pytest.raises(USCCError) as info:
        validate(code)
    assert info.value.code == "department"
    assert info.value.message.startswith("第 1 位（登记管理部门代码）不合法")
    assert "“0”" in info.value.message


@pytest.mark.parametrize("department", list("123456789ANY"))
def test_allowed_departments(department):
    assert is_valid(make_uscc(department=department, body="MA0000000"))


@pytest.mark.parametrize("department", list("0BCDEFGHJKLMPQRTUWX"))
def test_refused_departments(department):
    first17 = department + "1350100M000100Y4"
    with pytest.raises(USCCError) as info:
        validate(first17 + check_character(first17))
    assert info.value.code == "department"


def test_rule_order_length_before_charset():
    with pytest.raises(USCCError) as info:
        validate("ZZZ")
    assert info.value.code == "length"


def test_rule_order_charset_before_department_and_check():
    with pytest.raises(USCCError) as info:
        validate("0Z350100M000100Y4A")
    assert info.value.code == "charset"


def test_rule_order_department_before_division():
    with pytest.raises(USCCError) as info:
        validate("01A50100M000100Y4A")
    assert info.value.code == "department"


def test_rule_order_division_before_check():
    with pytest.raises(USCCError) as info:
        validate("913A0100M000100Y4A")
    assert info.value.code == "division"


def test_usccerror_is_valueerror_with_known_code():
    assert issubclass(USCCError, ValueError)
    with pytest.raises(ValueError):
        USCCError("nope", "x")


# --- make_uscc ---------------------------------------------------------------------------------------


def test_make_uscc_reproduces_worked_example():
    assert make_uscc(division="350100", body="M000100Y4") == "91350100M000100Y43"
    assert make_uscc(division="350100", body="M000100Y0") == "91350100M000100Y43"  # 9th char fixed


def test_make_uscc_defaults_to_taiyuan_enterprise():
    code = make_uscc(body="MA0L00000")
    result = validate(code)
    assert result.department == "9"
    assert result.category == "1"
    assert result.division == "140100"
    assert result.warnings == ()


def test_make_uscc_without_fix_can_produce_the_warning_case():
    assert make_uscc(division="310000", body="631295002", fix_org_check=False) == "91310000631295002H"


def test_make_uscc_normalises_and_refuses_bad_input():
    assert make_uscc(division="350100", body="m000100y4") == "91350100M000100Y43"
    with pytest.raises(ValueError):
        make_uscc(body="12345678")  # 8 characters
    with pytest.raises(ValueError):
        make_uscc(body="12345678", division="14010A")
    with pytest.raises(ValueError):
        make_uscc(body="I23456780")  # I not in the set
    with pytest.raises(ValueError):
        make_uscc(body="123456780", department="0")


def test_make_uscc_org_check_x_is_in_the_set():
    # An org-code check of 'X' is a legal USCC character.
    body = next(f"{n:08d}" for n in range(1000) if org_code_check(f"{n:08d}") == "X")
    code = make_uscc(body=body + "0")
    assert code[16] == "X"
    assert validate(code).warnings == ()


# --- property loop (seeded, no hypothesis) ---------------------------------------------------------


def _minted_codes(n=2000, seed=20260101):
    rng = random.Random(seed)
    divisions = ["140100", "140171", "140200", "140700", "141100", "110000", "440300"]
    codes = []
    for _ in range(n):
        codes.append(
            make_uscc(
                division=rng.choice(divisions),
                body="".join(rng.choice(ALPHABET) for _ in range(9)),
                department=rng.choice("123456789ANY"),
                category=rng.choice(ALPHABET),
            )
        )
    return codes


def test_minted_codes_validate_and_every_single_substitution_is_caught():
    codes = _minted_codes()
    assert len(set(codes)) > 1900
    mutations = 0
    for code in codes:
        result = validate(code)
        assert result.code == code
        assert result.warnings == (), code
        for i in range(18):
            for ch in ALPHABET:
                if ch == code[i]:
                    continue
                mutated = code[:i] + ch + code[i + 1 :]
                # The position-18 check alone always catches a single substitution ...
                assert check_character(mutated[:17]) != mutated[17], mutated
                # ... and validate() refuses it (an earlier rule may fire first).
                # (try/except rather than pytest.raises: this runs 1,080,000 times.)
                try:
                    validate(mutated)
                except USCCError as exc:
                    refused = exc.code
                else:
                    pytest.fail(f"{mutated} (from {code}) was accepted")
                if 2 <= i <= 7 and not ch.isdigit():
                    assert refused == "division", mutated
                elif i == 0 and ch not in uscc.DEPARTMENT_CODES:
                    assert refused == "department", mutated
                else:
                    assert refused == "check", mutated
                mutations += 1
    assert mutations == 2000 * 18 * 30


# --- Django validator ---------------------------------------------------------------------------------


def test_validate_uscc_field_accepts_valid_and_normalisable_values():
    assert validate_uscc_field("91350100M000100Y43") is None
    assert validate_uscc_field("９１３５０１００Ｍ０００１００Ｙ４３") is None
    assert validate_uscc_field("91310000631295002H") is None  # warning only


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y4", "uscc_length"),
        ("91350100M000100Y4Z", "uscc_charset"),
        ("01350100M000100Y4" + check_character("01350100M000100Y4"), "uscc_department"),
        ("9135010AM000100Y43", "uscc_division"),
        ("91100000100003962A", "uscc_check"),
    ],
)
def test_validate_uscc_field_raises_validation_error(value, code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        validate_uscc_field(value)
    assert info.value.code == code
    assert info.value.messages == [validate_message(value)]


def validate_message(value):
    try:
        validate(value)
    except USCCError as exc:
        return exc.message
    raise AssertionError("expected a USCCError")
