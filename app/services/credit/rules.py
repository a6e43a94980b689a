"""The rules of declaring credit hours (学时申报), shared by the forms, the Excel import and the REST import.

Who declares (``Declarer``):

- a person (专技人员) for themself: an approved programme, a conversion standard, or a free-text activity;
- an employer unit (用人单位, 代报) for the persons of its subtree: an approved programme or a standard;
- a training base (继续教育基地) for the trainees of its own approved programmes.

A programme declared by an employer unit is for that unit's own staff: a person outside it is "not a trainee
of the programme". A row is a plain dict (``RowInput``); ``parse_row`` turns loose input (a JSON object, a
form, an Excel row) into one, field by field, each problem a ``Problem`` naming the field.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Optional

from flask_babel import gettext as _
from sqlalchemy import select

from app.actor import Actor
from app.errors import NotAllowed
from app.extensions import db
from app.models import (CreditChannel, CreditDeclarer, LearningMode, Organisation, OrganisationStatus,
                        OrganisationType, Person, PersonStatus, SubjectKind)
from app.validators import validate_id_number

#: the fields of one declared row, in the order the Excel template and the REST schema show them
FIELDS = ("id_number", "name", "programme_code", "standard_code", "quantity", "activity", "subject_kind",
          "mode", "hours", "completed_on")

#: most hours one row may carry (a programme gives at most its own hours)
MAX_HOURS = 500
#: most units of a conversion standard in one row
MAX_QUANTITY = 1000
#: longest activity text kept
MAX_ACTIVITY = 200
#: longest activity text part of activity_key (the column holds 120 characters)
_KEY_TEXT = 100

_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


@dataclass
class Problem:
    """What is wrong with one row: its position in the batch, the field and the reason (Chinese)."""

    index: int
    field: str
    message: str


@dataclass(frozen=True)
class Declarer:
    """Who declares, and through which channel."""

    type: CreditDeclarer
    actor: Actor
    channel: CreditChannel
    #: the declaring base or unit (None when a person declares)
    org_id: Optional[int] = None
    org_path: Optional[str] = None
    #: the declaring person (None when an organisation declares)
    person_id: Optional[int] = None

    @property
    def is_person(self) -> bool:
        return self.type == CreditDeclarer.person


def declarer_for(actor: Actor, channel: CreditChannel | str) -> Declarer:
    """The declarer an account acts as; NotAllowed for anyone who may not declare hours."""
    channel = CreditChannel(channel)
    account = actor.account
    user_type = getattr(getattr(account, "user_type", None), "value", None)
    if user_type == "personnel":
        person = db.session.execute(select(Person.id, Person.status).where(Person.account_id == account.id)).first()
        if person is None or person.status != PersonStatus.active:
            raise NotAllowed(_("Only an active professional may declare credit hours"))
        return Declarer(CreditDeclarer.person, actor, channel, person_id=person.id)
    org: Optional[Organisation] = actor.organisation
    if (user_type in ("employer", "training_base") and org is not None
            and org.status == OrganisationStatus.approved
            and org.type in (OrganisationType.employer, OrganisationType.training_base)):
        kind = CreditDeclarer.employer if org.type == OrganisationType.employer else CreditDeclarer.training_base
        return Declarer(kind, actor, channel, org_id=org.id, org_path=org.path)
    raise NotAllowed(_("Only professionals, approved employer units and approved training bases declare credit hours"))


# ------------------------------------------------------------------ parsing loose input
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _whole(value: Any, field: str, index: int, low: int, high: int, problems: list) -> Optional[int]:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        problems.append(Problem(index, field, _("Enter a whole number")))
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    else:
        text = _text(value)
        if not re.fullmatch(r"[0-9]{1,9}", text):
            problems.append(Problem(index, field, _("Enter a whole number")))
            return None
        number = int(text)
    if not low <= number <= high:
        problems.append(Problem(index, field, _("Enter a number from %(low)d to %(high)d", low=low, high=high)))
        return None
    return number


def _date(value: Any, index: int, problems: list) -> Optional[datetime.date]:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        problems.append(Problem(index, "completed_on", _("This column is required")))
        return None
    match = _DATE.fullmatch(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    try:
        if match is None:
            raise ValueError
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        problems.append(Problem(index, "completed_on", _("Enter a date as YYYY-MM-DD")))
        return None


def _choice(value: Any, enum, field: str, index: int, problems: list):
    text = _text(value)
    if not text:
        return None
    for member in enum:
        if text in (member.value, str(member.label)):
            return member
    problems.append(Problem(index, field, _("“%(value)s” is not one of the choices of the drop-down list",
                                            value=text[:30])))
    return None


def parse_row(index: int, raw: Any, id_checked: bool = False) -> tuple[Optional[dict], list[Problem]]:
    """A declared row from loose input (strings, numbers, dates); (row, []) or (None, problems).

    ``id_checked``: the ID number was validated and normalised already (the Excel importer's column)."""
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        return None, [Problem(index, "", _("Each record must be an object with named fields"))]
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        problems.append(Problem(index, unknown[0], _("Unknown field “%(name)s”", name=unknown[0][:30])))
    number_text = _text(raw.get("id_number"))
    number = None
    if isinstance(raw.get("id_number"), (int, float)) and not isinstance(raw.get("id_number"), bool):
        problems.append(Problem(index, "id_number", _("Enter the ID number as text (a number cell loses its last digits)")))
    elif id_checked and number_text:
        number = number_text
    else:
        try:
            number = validate_id_number(number_text)
        except ValueError as exc:
            problems.append(Problem(index, "id_number", str(exc)))
    row = {
        "id_number": number,
        "name": _text(raw.get("name"))[:50] or None,
        "programme_code": _text(raw.get("programme_code")).upper() or None,
        "standard_code": _text(raw.get("standard_code")) or None,
        "quantity": _whole(raw.get("quantity"), "quantity", index, 1, MAX_QUANTITY, problems),
        "activity": " ".join(_text(raw.get("activity")).split()) or None,
        "subject_kind": _choice(raw.get("subject_kind"), SubjectKind, "subject_kind", index, problems),
        "mode": _choice(raw.get("mode"), LearningMode, "mode", index, problems),
        "hours": _whole(raw.get("hours"), "hours", index, 1, MAX_HOURS, problems),
        "completed_on": _date(raw.get("completed_on"), index, problems),
    }
    if row["activity"] and len(row["activity"]) > MAX_ACTIVITY:
        problems.append(Problem(index, "activity", _("At most %(n)d characters", n=MAX_ACTIVITY)))
    for field in ("programme_code", "standard_code"):
        if row[field] and len(row[field]) > 20:
            problems.append(Problem(index, field, _("At most %(n)d characters", n=20)))
    return (None, problems) if problems else (row, [])


def activity_key(programme_id: Optional[int], standard_id: Optional[int], text: Optional[str]) -> str:
    """What makes two records "the same activity": P<programme>, S<standard>:<text>, T:<text>."""
    if programme_id is not None:
        return f"P{programme_id}"
    folded = " ".join((text or "").split()).lower()[:_KEY_TEXT]
    if standard_id is not None:
        return f"S{standard_id}:{folded}"
    return f"T:{folded}"


def duplicate_message() -> str:
    return _("This person already has a pending or approved record of this activity on this date")
