"""统一社会信用代码（Unified Social Credit Code, GB 32100-2015）的规范化与校验。

Standard library only, apart from the Django validator wrapper :func:`validate_uscc_field`.
See ``/work/shared/domain.md`` §1 for the specification and test vectors.

Layout of the 18 characters::

    position 1      registration department (登记管理部门代码): 1-9, A, N, Y
    position 2      entity category within the department (机构类别代码)
    positions 3-8   administrative division code of the registering authority (digits only)
    positions 9-17  organisation code (GB 11714); position 17 is its own check character
    position 18     check character of the whole code

Public API:

* :func:`normalize` — strip whitespace, full-width → half-width, upper-case. Store this form.
* :func:`validate` — hard rules (raise :class:`USCCError`) then the soft position-17 rule
  (a warning in :attr:`USCCResult.warnings`, never a refusal).
* :func:`is_valid` — boolean shortcut.
* :func:`check_character`, :func:`org_code_check` — the two check-character algorithms.
* :func:`make_uscc` — mint a valid code (demo data, test factories).
* :func:`validate_uscc_field` — Django validator for models, forms and serializers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALPHABET",
    "DEPARTMENT_CODES",
    "WEIGHTS",
    "USCCError",
    "USCCResult",
    "check_character",
    "is_valid",
    "make_uscc",
    "normalize",
    "org_code_check",
    "validate",
    "validate_uscc_field",
]

#: The 31 characters of GB 32100, in value order (0–9 → 0–9, A=10 … Y=30). No I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_ALPHABET_SET = frozenset(ALPHABET)

#: Weights of positions 1–17 for the position-18 check: 3^(i−1) mod 31.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: Allowed values of position 1 (登记管理部门代码).
DEPARTMENT_CODES = frozenset("123456789ANY")

#: Letters the standard never uses.
_EXCLUDED_LETTERS = frozenset("IOSVZ")

# GB 11714 organisation code: positions 9–16 use digits and the full alphabet (A=10 … Z=35).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}

USCC_LENGTH = 18

# Invisible characters that survive copy-and-paste from web pages and Office documents but are not
# classed as whitespace by str.isspace(): zero-width space/joiners and the byte-order mark.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")

_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # U+FF01–U+FF5E → U+0021–U+007E
_ASCII_UPPER = {cp: cp - 32 for cp in range(ord("a"), ord("z") + 1)}


class USCCError(ValueError):
    """A hard-rule failure. ``code`` is one of 'length', 'charset', 'department', 'division', 'check'."""

    CODES = ("length", "charset", "department", "division", "check")

    def __init__(self, code: str, message: str):
        if code not in self.CODES:
            raise ValueError(f"unknown USCCError code: {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"USCCError({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class USCCResult:
    """A code that passed every hard rule.

    ``code`` is the normalised 18-character form; ``department`` (position 1), ``category``
    (position 2), ``division`` (positions 3–8) and ``org_code`` (positions 9–17) are slices of it.
    ``warnings`` holds Chinese messages for soft-rule failures (position-17 check) for staff to review.
    """

    code: str
    department: str
    category: str
    division: str
    org_code: str
    warnings: tuple[str, ...] = ()

    @property
    def has_warnings(self) -> bool:
        return bool(self.warnings)

    def __str__(self) -> str:
        return self.code


def normalize(raw: str) -> str:
    """Return ``raw`` with all whitespace removed (including U+3000 and zero-width characters),
    full-width ASCII (U+FF01–U+FF5E) converted to half-width and ASCII letters upper-cased.

    Only ASCII letters are upper-cased, so the length of the result never grows (``'ß'.upper()``
    would give ``'SS'``); any remaining non-ASCII character is reported by the charset rule.
    """
    if raw is None:
        return ""
    text = str(raw)
    if text.isascii() and text.isalnum():  # fast path: nothing to strip or convert
        return text.upper()
    text = text.translate(_HALF_WIDTH)
    text = "".join(ch for ch in text if not ch.isspace() and ch not in _INVISIBLE)
    return text.translate(_ASCII_UPPER)


def _weighted_sum(first17: str) -> int:
    return sum(_VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))


def check_character(first17: str) -> str:
    """Check character (position 18) for the first 17 characters of a code.

    S = Σ value(cᵢ)·wᵢ with wᵢ = 3^(i−1) mod 31; check value = (31 − S mod 31) mod 31, written with
    :data:`ALPHABET`. Raises ``ValueError`` if ``first17`` is not 17 characters of the alphabet.

    >>> check_character("91350100M000100Y4")
    '3'
    """
    if len(first17) != 17 or any(ch not in _VALUES for ch in first17):
        raise ValueError(f"check_character() needs 17 characters of {ALPHABET}, got {first17!r}")
    return ALPHABET[(31 - _weighted_sum(first17) % 31) % 31]


def org_code_check(code8: str) -> str:
    """Check character of a GB 11714 organisation code from its first 8 characters.

    Digits and A=10 … Z=35; weights 3, 7, 9, 10, 5, 8, 4, 2; c = 11 − (Σ mod 11);
    10 is written ``X`` and 11 is written ``0``. Raises ``ValueError`` on malformed input.

    >>> org_code_check("71092546")
    '2'
    """
    if len(code8) != 8 or any(ch not in _ORG_VALUES for ch in code8):
        raise ValueError(f"org_code_check() needs 8 characters of 0-9/A-Z, got {code8!r}")
    c = 11 - sum(_ORG_VALUES[ch] * w for ch, w in zip(code8, _ORG_WEIGHTS, strict=True)) % 11
    if c == 10:
        return "X"
    if c == 11:
        return "0"
    return str(c)


def _charset_error(position: int, ch: str) -> USCCError:
    if ch in _EXCLUDED_LETTERS:
        reason = "统一社会信用代码不使用 I、O、S、V、Z"
    elif ch.isascii() and ch.isprintable():
        reason = "统一社会信用代码只能由数字和大写字母（不含 I、O、S、V、Z）组成"
    else:
        reason = "统一社会信用代码只能由半角数字和大写字母（不含 I、O、S、V、Z）组成"
    return USCCError("charset", f"第 {position} 位字符“{ch}”不合法：{reason}")


def _check_hard_rules(code: str) -> None:
    """Raise :class:`USCCError` for the first failing hard rule of a normalised code."""
    if len(code) != USCC_LENGTH:
        raise USCCError("length", f"统一社会信用代码应为 18 位，当前为 {len(code)} 位")

    if not _ALPHABET_SET.issuperset(code):
        position, ch = next((i, c) for i, c in enumerate(code, start=1) if c not in _VALUES)
        raise _charset_error(position, ch)

    if code[0] not in DEPARTMENT_CODES:
        raise USCCError(
            "department",
            f"第 1 位（登记管理部门代码）不合法：应为 1–9、A、N 或 Y，实际为“{code[0]}”",
        )

    if not code[2:8].isdigit():  # ASCII digits only: the charset rule has already run
        position, ch = next((i, c) for i, c in enumerate(code[2:8], start=3) if not c.isdigit())
        raise USCCError(
            "division",
            f"第 3–8 位（登记管理机关行政区划码）必须是数字，第 {position} 位为“{ch}”",
        )

    expected = check_character(code[:17])
    if code[17] != expected:
        raise USCCError("check", f"校验码错误：第 18 位应为“{expected}”，实际为“{code[17]}”")


def validate(raw: str) -> USCCResult:
    """Normalise ``raw`` and validate it.

    Hard rules, in order — the first failure raises :class:`USCCError` with that rule's ``code``:
    length 18 (``length``); every character in :data:`ALPHABET` (``charset``); position 1 in
    1–9/A/N/Y (``department``); positions 3–8 digits (``division``); position 18 check
    (``check``). Then the soft rule: a failing position-17 organisation-code check only adds a
    warning (some codes registered before 2016 fail it) — never a refusal.
    """
    code = normalize(raw)
    _check_hard_rules(code)

    warnings: list[str] = []
    expected_org = org_code_check(code[8:16])
    if code[16] != expected_org:
        warnings.append(
            f"第 17 位组织机构代码校验位不符（应为“{expected_org}”），"
            "2016 年前登记的部分代码存在此情况，请人工核实"
        )

    return USCCResult(
        code=code,
        department=code[0],
        category=code[1],
        division=code[2:8],
        org_code=code[8:17],
        warnings=tuple(warnings),
    )


def is_valid(raw: str) -> bool:
    """True if ``raw`` passes every hard rule after normalisation (warnings do not count)."""
    try:
        validate(raw)
    except USCCError:
        return False
    return True


def make_uscc(
    *,
    division: str = "140100",
    body: str,
    department: str = "9",
    category: str = "1",
    fix_org_check: bool = True,
) -> str:
    """Mint a valid code — for demo-data generators and test factories.

    ``body`` is the 9-character organisation code (positions 9–17) drawn from :data:`ALPHABET`.
    With ``fix_org_check=True`` (default) its 9th character is replaced by the correct GB 11714
    check character, so the result validates without warnings; with ``False`` the body is kept
    as given (useful to produce the pre-2016 "warning" case). The position-18 check character is
    always computed and appended. Inputs are normalised first; anything that would not form a
    valid code raises ``ValueError`` (or :class:`USCCError`).

    >>> make_uscc(division="350100", body="M000100Y0")
    '91350100M000100Y43'
    """
    department, category, division, body = (normalize(x) for x in (department, category, division, body))
    if len(department) != 1 or len(category) != 1:
        raise ValueError("department and category must be single characters")
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"division must be 6 digits, got {division!r}")
    if len(body) != 9:
        raise ValueError(f"body must be 9 characters, got {body!r}")
    if fix_org_check:
        body = body[:8] + org_code_check(body[:8])
    first17 = department + category + division + body
    bad = [ch for ch in first17 if ch not in _VALUES]
    if bad:
        raise ValueError(f"characters {''.join(bad)!r} are not in the USCC alphabet {ALPHABET}")
    code = first17 + check_character(first17)
    _check_hard_rules(code)  # e.g. refuses a department outside 1-9/A/N/Y
    return code


def validate_uscc_field(value) -> None:
    """Django validator: validates the normalised form of ``value``.

    Raises ``django.core.exceptions.ValidationError(message, code='uscc_<rule>')`` for a hard-rule
    failure. Soft-rule warnings are not errors; call :func:`validate` to show them to staff.
    Normalise before saving (e.g. in ``clean()``/``to_internal_value``) to store the canonical form.
    """
    from django.core.exceptions import ValidationError

    try:
        validate(value)
    except USCCError as exc:
        raise ValidationError(exc.message, code="uscc_" + exc.code)
