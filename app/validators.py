"""Validators for Chinese identity numbers, credit codes, mobiles and passwords.

The pure functions raise ``ValueError`` with a Chinese message meant to be shown
to end users as-is; the WTForms wrappers at the bottom turn that message into a
``ValidationError`` and write the normalized value back into the field.

Decisions on resident ID province prefixes (first two digits):

* ``83`` is ACCEPTED: residence permits for Taiwan residents (港澳台居民居住证,
  issued since 2018) use 830000 with the same GB 11643 layout and checksum, just
  as 81 (Hong Kong) and 82 (Macao) do.
* ``91`` is REJECTED: it is not a GB/T 2260 region code and is never issued on a
  resident ID. The 2023 foreigner permanent residence card starts with "9"
  followed by the province code, so "91" would only let through the cards
  issued in some northern provinces, which is inconsistent rather than useful.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache

__all__ = [
    "normalize_id_number",
    "validate_id_number",
    "id_number_info",
    "make_id_number",
    "normalize_uscc",
    "validate_uscc",
    "make_uscc",
    "validate_mobile",
    "validate_password_strength",
    "IdNumber",
    "Uscc",
    "Mobile",
    "PasswordStrength",
]

# ---------------------------------------------------------------------------
# Resident identity number (GB 11643-1999)
# ---------------------------------------------------------------------------

ID_PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15"}
    | {"21", "22", "23"}
    | {"31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46"}
    | {"50", "51", "52", "53", "54"}
    | {"61", "62", "63", "64", "65"}
    | {"71", "81", "82", "83"}
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_MIN_BIRTH = datetime.date(1900, 1, 1)

# ASCII-only on purpose: ``\d`` would also accept full-width and other Unicode digits.
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID_LEGACY_RE = re.compile(r"[0-9]{15}")

MSG_ID_EMPTY = "请输入身份证号"
MSG_ID_LEGACY = "不支持15位旧身份证号，请使用18位身份证号"
MSG_ID_LENGTH = "身份证号应为18位"
MSG_ID_CHARSET = "身份证号格式错误：前17位须为数字，最后一位为数字或X"
MSG_ID_PROVINCE = "身份证号地区码无效"
MSG_ID_DATE = "身份证号中的出生日期无效"
MSG_ID_FUTURE = "身份证号中的出生日期不能晚于今天"
MSG_ID_TOO_OLD = "身份证号中的出生日期不能早于1900年1月1日"
MSG_ID_CHECKSUM = "身份证号校验位错误，请核对后重新输入"


def _id_check_char(body17: str) -> str:
    """Compute the ISO 7064 MOD 11-2 check char, shared by validation and tests."""
    total = 0
    for ch, weight in zip(body17, _ID_WEIGHTS):
        total += (ord(ch) - 48) * weight
    return _ID_CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    """Drop whitespace and upper-case a trailing x so users may type either form."""
    if value is None:
        return ""
    text = "".join(str(value).split())
    if text.endswith("x"):
        text = text[:-1] + "X"
    return text


def validate_id_number(value: str, today: datetime.date | None = None) -> str:
    """Return the normalized 18-digit ID or raise ValueError with a user-facing message."""
    number = normalize_id_number(value)
    if not number:
        raise ValueError(MSG_ID_EMPTY)
    if _ID_LEGACY_RE.fullmatch(number):
        raise ValueError(MSG_ID_LEGACY)
    if len(number) != 18:
        raise ValueError(MSG_ID_LENGTH)
    if not _ID_RE.fullmatch(number):
        raise ValueError(MSG_ID_CHARSET)
    if number[:2] not in ID_PROVINCE_CODES:
        raise ValueError(MSG_ID_PROVINCE)
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError(MSG_ID_DATE) from None
    if today is None:
        today = datetime.date.today()
    if birth > today:
        raise ValueError(MSG_ID_FUTURE)
    if birth < _ID_MIN_BIRTH:
        raise ValueError(MSG_ID_TOO_OLD)
    if _id_check_char(number[:17]) != number[17]:
        raise ValueError(MSG_ID_CHECKSUM)
    return number


def id_number_info(value: str) -> tuple[datetime.date, str]:
    """Extract (birth date, "male"/"female") so callers never parse the raw string."""
    number = validate_id_number(value)
    birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    gender = "male" if int(number[16]) % 2 else "female"
    return birth, gender


# Precomputed weighted digit sums so make_id_number does no per-call list work.
_ID_SEQ_PARTS = tuple(
    (f"{seq:03d}", sum(int(c) * w for c, w in zip(f"{seq:03d}", _ID_WEIGHTS[14:17])))
    for seq in range(1000)
)
_ID_MONTH_PARTS = (None,) + tuple(
    (f"{m:02d}", sum(int(c) * w for c, w in zip(f"{m:02d}", _ID_WEIGHTS[10:12])))
    for m in range(1, 13)
)
_ID_DAY_PARTS = (None,) + tuple(
    (f"{d:02d}", sum(int(c) * w for c, w in zip(f"{d:02d}", _ID_WEIGHTS[12:14])))
    for d in range(1, 32)
)


@lru_cache(maxsize=4096)
def _id_region_sum(region: str) -> int:
    """Validate a 6-digit region code once and cache its weighted sum."""
    if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit()):
        raise ValueError(f"地区码应为6位数字：{region!r}")
    if region[:2] not in ID_PROVINCE_CODES:
        raise ValueError(f"地区码的省级代码无效：{region!r}")
    return sum(int(c) * w for c, w in zip(region, _ID_WEIGHTS[0:6]))


@lru_cache(maxsize=None)
def _id_year_part(year: int) -> tuple[str, int]:
    """Cache the weighted sum of a birth year (at most 8100 distinct values)."""
    text = f"{year:04d}"
    return text, sum(int(c) * w for c, w in zip(text, _ID_WEIGHTS[6:10]))


def make_id_number(region: str, birth: datetime.date, seq: int) -> str:
    """Build a checksum-valid 18-digit ID for demo and benchmark data generators."""
    if not 0 <= seq <= 999:
        raise ValueError(f"顺序码应在0-999之间：{seq!r}")
    if birth.year < 1900:
        raise ValueError(MSG_ID_TOO_OLD)
    year_text, year_sum = _id_year_part(birth.year)
    month_text, month_sum = _ID_MONTH_PARTS[birth.month]
    day_text, day_sum = _ID_DAY_PARTS[birth.day]
    seq_text, seq_sum = _ID_SEQ_PARTS[seq]
    total = _id_region_sum(region) + year_sum + month_sum + day_sum + seq_sum
    return region + year_text + month_text + day_text + seq_text + _ID_CHECK_CHARS[total % 11]


# ---------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015)
# ---------------------------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {ch: i for i, ch in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

MSG_USCC_EMPTY = "请输入统一社会信用代码"
MSG_USCC_LENGTH = "统一社会信用代码应为18位"
MSG_USCC_CHARSET = "统一社会信用代码含有非法字符"
MSG_USCC_CHECKSUM = "统一社会信用代码校验位错误"


def _uscc_check_char(body17: str) -> str:
    """Compute the MOD 31 check char over an already charset-checked 17-char body."""
    total = 0
    for ch, weight in zip(body17, _USCC_WEIGHTS):
        total += _USCC_VALUES[ch] * weight
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """Drop whitespace and upper-case, since codes are often pasted in lower case."""
    if value is None:
        return ""
    return "".join(str(value).split()).upper()


def validate_uscc(value: str) -> str:
    """Return the normalized 18-char credit code or raise ValueError with a user-facing message."""
    code = normalize_uscc(value)
    if not code:
        raise ValueError(MSG_USCC_EMPTY)
    if len(code) != 18:
        raise ValueError(MSG_USCC_LENGTH)
    if any(ch not in _USCC_VALUES for ch in code):
        raise ValueError(MSG_USCC_CHARSET)
    if _uscc_check_char(code[:17]) != code[17]:
        raise ValueError(MSG_USCC_CHECKSUM)
    return code


def make_uscc(body17: str) -> str:
    """Append the check char to a 17-char body for demo and benchmark data generators."""
    body = normalize_uscc(body17)
    if len(body) != 17:
        raise ValueError("统一社会信用代码主体应为17位")
    if any(ch not in _USCC_VALUES for ch in body):
        raise ValueError(MSG_USCC_CHARSET)
    return body + _uscc_check_char(body)


# ---------------------------------------------------------------------------
# Mobile number and password
# ---------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
MSG_MOBILE = "请输入有效的11位手机号码"

_PASSWORD_MIN_LENGTH = 8
_HAS_LETTER_RE = re.compile(r"[A-Za-z]")
_HAS_DIGIT_RE = re.compile(r"[0-9]")
MSG_PASSWORD = "密码至少8位，且须同时包含字母和数字"


def validate_mobile(value: str) -> str:
    """Return the mainland mobile number without spaces/hyphens or raise ValueError."""
    number = "" if value is None else re.sub(r"[\s-]", "", str(value))
    if not _MOBILE_RE.fullmatch(number):
        raise ValueError(MSG_MOBILE)
    return number


def validate_password_strength(value: str) -> str:
    """Return the password unchanged if it has 8+ chars with an ASCII letter and digit."""
    password = "" if value is None else str(value)
    if (
        len(password) < _PASSWORD_MIN_LENGTH
        or not _HAS_LETTER_RE.search(password)
        or not _HAS_DIGIT_RE.search(password)
    ):
        raise ValueError(MSG_PASSWORD)
    return password


# ---------------------------------------------------------------------------
# WTForms wrappers
# ---------------------------------------------------------------------------

from wtforms.validators import ValidationError  # noqa: E402


class _NormalizingValidator:
    """Base for WTForms validators that normalize field.data and leave emptiness to DataRequired/Optional."""

    _func = None
    strip_blank = True

    def __init__(self, message: str | None = None):
        self.message = message

    def _is_empty(self, data) -> bool:
        """Treat None/"" (and whitespace-only where stripping applies) as not this validator's concern."""
        if data is None:
            return True
        if isinstance(data, str):
            return not (data.strip() if self.strip_blank else data)
        return False

    def __call__(self, form, field):
        if self._is_empty(field.data):
            return
        try:
            field.data = self._func(field.data)
        except ValueError as exc:
            raise ValidationError(self.message or str(exc)) from None


class IdNumber(_NormalizingValidator):
    """WTForms validator for 18-digit resident ID numbers."""

    _func = staticmethod(validate_id_number)


class Uscc(_NormalizingValidator):
    """WTForms validator for unified social credit codes."""

    _func = staticmethod(validate_uscc)


class Mobile(_NormalizingValidator):
    """WTForms validator for mainland mobile numbers."""

    _func = staticmethod(validate_mobile)


class PasswordStrength(_NormalizingValidator):
    """WTForms validator for the minimum password policy; never strips the password."""

    _func = staticmethod(validate_password_strength)
    strip_blank = False


def fab_password_complexity(password: str) -> None:
    """Adapter so FAB's own password forms apply our rule and message."""
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    try:
        validate_password_strength(password)
    except ValueError as exc:
        raise PasswordComplexityValidationError(str(exc)) from exc
