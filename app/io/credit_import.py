"""学时批量导入: a training base (its programmes' trainees) or an employer unit (代报, its staff) imports hours.

The rows go through the one declaring path (``app/services/credit/declaring.py``), exactly as the forms and
the REST import: each bad row is named with its reason (invalid or unknown ID number, outside the declarer's
scope, not a trainee of the programme, duplicate in the file or in the database, over a standard's yearly
cap, closed year, date outside the programme); the good rows are inserted as pending records in one
transaction, with their summaries.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.actor import Actor, current_actor
from app.io.imports import Column, Importer, RowError, register
from app.models import CreditChannel, LearningMode, SubjectKind
from app.services.credit import declaring
from app.services.credit.rules import declarer_for, parse_row


def _programme_codes() -> list[str]:
    try:
        declarer = declarer_for(current_actor(), CreditChannel.excel)
    except Exception:  # noqa: BLE001 - the template of someone who may not declare has no list
        return []
    return [code for code, _name in declaring.declarable_programmes(declarer)]


def _standard_codes() -> list[str]:
    return [s.code for s in declaring.current_standards()]


COLUMNS = [
    Column("id_number", _l("ID number"), "id_number", required=True, width=22,
           note=_l("18-digit resident ID number of a registered professional, entered as text"),
           example="420106199001010167"),
    Column("name", _l("Full name"), max_length=50, width=12,
           note=_l("Optional; when given it must match the ID number"), example="张三"),
    Column("programme_code", _l("Programme code"), max_length=20, width=16, suggestions=_programme_codes,
           note=_l("Code (PX…) of an approved training programme; a training base enters one of its own"),
           example="PX2026000123"),
    Column("standard_code", _l("Standard code"), max_length=20, width=14, suggestions=_standard_codes,
           note=_l("Code of a conversion standard (employer units only), instead of a programme code"), example=""),
    Column("quantity", _l("Quantity"), max_length=9, width=10,
           note=_l("For a conversion standard: how many of its units (papers, days…)"), example=""),
    Column("activity", _l("Activity details"), max_length=200, width=30,
           note=_l("For a conversion standard: what it was (e.g. the paper's title)"), example=""),
    Column("subject_kind", _l("Subject kind"), "choice", width=12,
           choices=lambda: [str(k.label) for k in SubjectKind],
           note=_l("Optional: taken from the programme or standard (a different value is refused)"), example="专业科目"),
    Column("mode", _l("Learning mode"), "choice", width=12, choices=lambda: [str(m.label) for m in LearningMode],
           note=_l("Optional: taken from the programme or standard (a different value is refused)"), example="面授"),
    Column("hours", _l("Hours"), max_length=9, width=8,
           note=_l("Optional for a programme (at most its hours; blank: all of them); blank for a standard"),
           example="24"),
    Column("completed_on", _l("Completion date"), "date", required=True, width=14,
           note=_l("YYYY-MM-DD, within the programme's dates; its year is the year the hours count for"),
           example="2026-03-20"),
]


def allowed(actor: Actor) -> None:
    declarer_for(actor, CreditChannel.excel)


def validate(rows: list[tuple[int, dict]], actor: Actor) -> tuple[list[tuple[int, dict]], list[RowError]]:
    declarer = declarer_for(actor, CreditChannel.excel)
    headers = {c.key: str(c.header) for c in COLUMNS}
    parsed, errors = [], []
    for row_number, row in rows:
        values, problems = parse_row(row_number, row, id_checked=True)  # the id_number column validated it
        errors.extend(RowError(p.index, headers.get(p.field, p.field), p.message) for p in problems)
        if values is not None:
            parsed.append((row_number, values))
    checked = declaring.check(declarer, parsed)
    errors.extend(RowError(p.index, headers.get(p.field, p.field), p.message) for p in checked.problems)
    return checked.good, errors


def commit(records: list[dict], actor: Actor, file_name: str) -> int:
    declarer = declarer_for(actor, CreditChannel.excel)
    return len(declaring.insert(declarer, records))


CREDIT_IMPORT = register(Importer(
    name="credit", title=_l("Credit hours"), columns=COLUMNS, validate=validate, commit=commit, allowed=allowed,
    instructions=[
        _l("Fill in one record per row on the first sheet: who, which programme (or conversion standard) and when; "
           "keep the header row as it is."),
        _l("A training base declares the trainees of its own approved programmes; an employer unit declares for "
           "its own staff (programmes or conversion standards)."),
        _l("The same person, activity and date counts once: a repeat in the file or of a pending or approved "
           "record is refused. A closed year takes no more records."),
        _l("Rows with errors are listed before anything is imported; you may import the correct rows only, "
           "and download the rejected rows with their reasons. Imported records wait for review."),
    ],
))
