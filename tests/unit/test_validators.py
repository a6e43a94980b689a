"""Behaviour tests for app.validators (pure functions and WTForms wrappers)."""

import datetime
import sys
from pathlib import Path

import pytest

# Make "import app" work even when pytest is launched without a rootdir conftest/pythonpath setting.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from werkzeug.datastructures import MultiDict  # noqa: E402
from wtforms import Form, PasswordField, StringField  # noqa: E402
from wtforms.validators import DataRequired, Optional  # noqa: E402

from app.validators import (  # noqa: E402
    IdNumber,
    Mobile,
    PasswordStrength,
    Uscc,
    id_number_info,
    make_id_number,
    make_uscc,
    normalize_id_number,
    validate_id_number,
    validate_mobile,
    validate_password_strength,
    validate_uscc,
)

VALID_IDS = [
    "420106198001010015",
    "420102198503150020",
    "420111199208080040",
    "42010219900601003X",
    "420106197512120051",
    "420502198807070064",
    "11010519491231002X",
]

VALID_USCCS = ["91350100M000100Y43", "91110000802100433B"]


def reference_id_check_char(body17):
    """Independent GB 11643 checksum so invalid samples differ only in the intended way."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights)) % 11]


def with_id_check(body17):
    return body17 + reference_id_check_char(body17)


def wrong_last_char(number):
    """Replace the check char with a different valid-looking one."""
    return number[:17] + ("0" if number[17] != "0" else "1")


# --------------------------------------------------------------------------- ID numbers


@pytest.mark.parametrize("number", VALID_IDS)
def test_id_number_accepts_valid_samples(number):
    assert validate_id_number(number) == number


def test_id_number_normalizes_lowercase_x_and_spaces():
    assert normalize_id_number(" 420102 19900601 003x ") == "42010219900601003X"
    assert validate_id_number("42010219900601003x") == "42010219900601003X"
    assert validate_id_number("110105 19491231 002x") == "11010519491231002X"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_id_number_rejects_empty(value):
    with pytest.raises(ValueError, match="请输入身份证号"):
        validate_id_number(value)


def test_id_number_rejects_legacy_15_digit():
    with pytest.raises(ValueError, match="不支持15位旧身份证号，请使用18位身份证号"):
        validate_id_number("420106800101001")


@pytest.mark.parametrize("value", ["42010619800101001", "4201061980010100155", "4201"])
def test_id_number_rejects_wrong_length(value):
    with pytest.raises(ValueError, match="身份证号应为18位"):
        validate_id_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "4201061980A1010015",  # letter in body
        "X20106198001010015",  # letter at the start
        "42010619800101001Y",  # invalid check char
        "42010619800101001５",  # full-width digit
    ],
)
def test_id_number_rejects_letters_in_body(value):
    with pytest.raises(ValueError, match="前17位须为数字"):
        validate_id_number(value)


@pytest.mark.parametrize("prefix", ["99", "00", "10", "16", "47", "72", "80", "84", "91"])
def test_id_number_rejects_unknown_province_prefix(prefix):
    number = with_id_check(prefix + "0106198001010015"[:15])
    with pytest.raises(ValueError, match="地区码无效"):
        validate_id_number(number)


@pytest.mark.parametrize("prefix", ["11", "15", "46", "54", "65", "71", "81", "82", "83"])
def test_id_number_accepts_official_province_prefixes(prefix):
    number = with_id_check(prefix + "0000199001010" + "01")
    assert validate_id_number(number) == number


@pytest.mark.parametrize("date_text", ["19900230", "19890229", "19901301", "19900001", "19900100"])
def test_id_number_rejects_impossible_calendar_date(date_text):
    number = with_id_check("420106" + date_text + "001")
    with pytest.raises(ValueError, match="出生日期无效"):
        validate_id_number(number)


def test_id_number_accepts_leap_day():
    number = with_id_check("420106" + "20000229" + "001")
    assert validate_id_number(number) == number


def test_id_number_rejects_future_birth_date():
    number = with_id_check("420106" + "20300101" + "001")
    with pytest.raises(ValueError, match="不能晚于今天"):
        validate_id_number(number, today=datetime.date(2029, 12, 31))


def test_id_number_accepts_birth_date_equal_to_today():
    number = with_id_check("420106" + "20300101" + "001")
    assert validate_id_number(number, today=datetime.date(2030, 1, 1)) == number


def test_id_number_rejects_birth_before_1900():
    number = with_id_check("420106" + "18991231" + "001")
    with pytest.raises(ValueError, match="不能早于1900年1月1日"):
        validate_id_number(number)


@pytest.mark.parametrize("number", VALID_IDS)
def test_id_number_rejects_bad_checksum(number):
    with pytest.raises(ValueError, match="校验位错误"):
        validate_id_number(wrong_last_char(number))


def test_id_number_checks_run_in_documented_order():
    # Bad prefix AND bad date AND bad checksum: the prefix message wins.
    with pytest.raises(ValueError, match="地区码无效"):
        validate_id_number("990106199002300011")
    # Bad date AND bad checksum: the date message wins.
    with pytest.raises(ValueError, match="出生日期无效"):
        validate_id_number("420106199002300011")


@pytest.mark.parametrize(
    "number, birth, gender",
    [
        ("420106198001010015", datetime.date(1980, 1, 1), "male"),
        ("420102198503150020", datetime.date(1985, 3, 15), "female"),
        ("42010219900601003x", datetime.date(1990, 6, 1), "male"),
        ("11010519491231002X", datetime.date(1949, 12, 31), "female"),
        ("420502198807070064", datetime.date(1988, 7, 7), "female"),
    ],
)
def test_id_number_info_returns_birth_date_and_gender(number, birth, gender):
    assert id_number_info(number) == (birth, gender)


def test_id_number_info_rejects_invalid_number():
    with pytest.raises(ValueError, match="校验位错误"):
        id_number_info("420106198001010016")


@pytest.mark.parametrize("region", ["420106", "110105", "650102", "810000", "830000"])
@pytest.mark.parametrize(
    "birth",
    [datetime.date(1900, 1, 1), datetime.date(1949, 12, 31), datetime.date(2000, 2, 29), datetime.date(2024, 11, 30)],
)
def test_make_id_number_round_trips_for_all_seqs(region, birth):
    genders = set()
    for seq in range(1000):
        number = make_id_number(region, birth, seq)
        assert len(number) == 18
        assert number[:6] == region
        assert number[14:17] == f"{seq:03d}"
        assert number[17] == reference_id_check_char(number[:17])
        assert validate_id_number(number, today=datetime.date(2025, 1, 1)) == number
        got_birth, gender = id_number_info(number)
        assert got_birth == birth
        assert gender == ("male" if seq % 2 else "female")
        genders.add(gender)
    assert genders == {"male", "female"}


@pytest.mark.parametrize("number", VALID_IDS)
def test_make_id_number_reproduces_known_valid_samples(number):
    birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert make_id_number(number[:6], birth, int(number[14:17])) == number


@pytest.mark.parametrize(
    "region, birth, seq",
    [
        ("42010", datetime.date(1990, 1, 1), 1),  # region too short
        ("42010A", datetime.date(1990, 1, 1), 1),  # non-digit region
        ("990106", datetime.date(1990, 1, 1), 1),  # unknown province
        ("420106", datetime.date(1990, 1, 1), -1),  # seq too small
        ("420106", datetime.date(1990, 1, 1), 1000),  # seq too large
        ("420106", datetime.date(1899, 12, 31), 1),  # before 1900
    ],
)
def test_make_id_number_rejects_bad_inputs(region, birth, seq):
    with pytest.raises(ValueError):
        make_id_number(region, birth, seq)


# --------------------------------------------------------------------------- USCC


@pytest.mark.parametrize("code", VALID_USCCS)
def test_uscc_accepts_valid_samples(code):
    assert validate_uscc(code) == code


def test_uscc_normalizes_case_and_spaces():
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert validate_uscc("9111 0000 8021 0043 3b") == "91110000802100433B"


@pytest.mark.parametrize("value", ["", "  ", None])
def test_uscc_rejects_empty(value):
    with pytest.raises(ValueError, match="请输入统一社会信用代码"):
        validate_uscc(value)


@pytest.mark.parametrize("value", ["91350100M000100Y4", "91350100M000100Y433", "9135"])
def test_uscc_rejects_wrong_length(value):
    with pytest.raises(ValueError, match="统一社会信用代码应为18位"):
        validate_uscc(value)


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-", "中"])
def test_uscc_rejects_forbidden_characters(bad):
    code = "91350100M000100Y43"
    with pytest.raises(ValueError, match="统一社会信用代码含有非法字符"):
        validate_uscc(code[:8] + bad + code[9:])


@pytest.mark.parametrize("code", VALID_USCCS)
def test_uscc_rejects_bad_checksum(code):
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(ValueError, match="统一社会信用代码校验位错误"):
        validate_uscc(wrong)


@pytest.mark.parametrize("code", VALID_USCCS)
def test_make_uscc_reproduces_known_valid_samples(code):
    assert make_uscc(code[:17]) == code


@pytest.mark.parametrize(
    "body", ["91350100M000100Y4", "11100000000013127", "Y1420106MA4KXYXY0", "52420100MJY000000", "93420100000000000"]
)
def test_make_uscc_output_passes_validation(body):
    code = make_uscc(body)
    assert code[:17] == body
    assert validate_uscc(code) == code


def test_make_uscc_check_char_of_zero_remainder_maps_to_zero():
    # All-zero body sums to 0, so 31 - 0 = 31 which must wrap to "0".
    assert make_uscc("0" * 17) == "0" * 18


@pytest.mark.parametrize("body", ["9135010", "91350100M000100Y43", "91350100M000100I4"])
def test_make_uscc_rejects_malformed_body(body):
    with pytest.raises(ValueError):
        make_uscc(body)


# --------------------------------------------------------------------------- mobile


@pytest.mark.parametrize("value", ["13800138000", "15912345678", "19900001111", "16612345678"])
def test_mobile_accepts_valid_numbers(value):
    assert validate_mobile(value) == value


def test_mobile_strips_spaces_and_hyphens():
    assert validate_mobile(" 138 0013-8000 ") == "13800138000"


@pytest.mark.parametrize(
    "value",
    ["", None, "1380013800", "138001380000", "12800138000", "23800138000", "1380013800a", "+8613800138000", "１３８００１３８０００"],
)
def test_mobile_rejects_invalid_numbers(value):
    with pytest.raises(ValueError, match="请输入有效的11位手机号码"):
        validate_mobile(value)


# --------------------------------------------------------------------------- password


@pytest.mark.parametrize("value", ["abc12345", "Passw0rd", "12345678a", "a1 b2 c3 d4", "密码Abcdef1"])
def test_password_accepts_strong_values(value):
    assert validate_password_strength(value) == value


@pytest.mark.parametrize(
    "value",
    ["", None, "abc1234", "abcdefgh", "12345678", "密码密码密码密码1", "        ", "!!!!!!!!1"],
)
def test_password_rejects_weak_values(value):
    with pytest.raises(ValueError, match="密码至少8位，且须同时包含字母和数字"):
        validate_password_strength(value)


# --------------------------------------------------------------------------- WTForms wrappers


class PersonForm(Form):
    id_number = StringField("身份证号", validators=[Optional(), IdNumber()])
    uscc = StringField("统一社会信用代码", validators=[Optional(), Uscc()])
    mobile = StringField("手机号", validators=[Optional(), Mobile()])
    password = PasswordField("密码", validators=[Optional(), PasswordStrength()])


class RequiredIdForm(Form):
    id_number = StringField("身份证号", validators=[DataRequired(message="必填"), IdNumber()])


class BareForm(Form):
    id_number = StringField("身份证号", validators=[IdNumber()])
    mobile = StringField("手机号", validators=[Mobile()])


def make_form(form_cls, **data):
    return form_cls(formdata=MultiDict(data))


def test_wtforms_wrappers_normalize_valid_data_in_place():
    form = make_form(
        PersonForm,
        id_number=" 42010219900601003x ",
        uscc="91350100m000100y43",
        mobile="138 0013 8000",
        password="abc12345",
    )
    assert form.validate(), form.errors
    assert form.id_number.data == "42010219900601003X"
    assert form.uscc.data == "91350100M000100Y43"
    assert form.mobile.data == "13800138000"
    assert form.password.data == "abc12345"


def test_wtforms_wrappers_report_chinese_errors():
    form = make_form(
        PersonForm,
        id_number="420106198001010016",
        uscc="91350100M000100Y44",
        mobile="12345",
        password="short1",
    )
    assert not form.validate()
    assert form.errors == {
        "id_number": ["身份证号校验位错误，请核对后重新输入"],
        "uscc": ["统一社会信用代码校验位错误"],
        "mobile": ["请输入有效的11位手机号码"],
        "password": ["密码至少8位，且须同时包含字母和数字"],
    }


def test_wtforms_wrappers_skip_empty_data():
    form = make_form(BareForm, id_number="", mobile="   ")
    assert form.validate(), form.errors
    form = make_form(PersonForm)
    assert form.validate(), form.errors


def test_wtforms_wrapper_leaves_empty_to_data_required():
    form = make_form(RequiredIdForm, id_number="")
    assert not form.validate()
    assert form.errors == {"id_number": ["必填"]}


def test_wtforms_wrapper_reports_legacy_id_message():
    form = make_form(RequiredIdForm, id_number="420106800101001")
    assert not form.validate()
    assert form.errors == {"id_number": ["不支持15位旧身份证号，请使用18位身份证号"]}


def test_wtforms_wrapper_custom_message_overrides_default():
    class CustomForm(Form):
        mobile = StringField("手机号", validators=[Mobile(message="手机号不对")])

    form = make_form(CustomForm, mobile="123")
    assert not form.validate()
    assert form.errors == {"mobile": ["手机号不对"]}


def test_wtforms_password_wrapper_does_not_treat_spaces_as_empty():
    class PwForm(Form):
        password = PasswordField("密码", validators=[PasswordStrength()])

    form = make_form(PwForm, password="        ")
    assert not form.validate()
    assert form.errors == {"password": ["密码至少8位，且须同时包含字母和数字"]}
