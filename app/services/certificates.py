"""电子证书: numbers, issue, the scoped query, the person's own certificates and public verification.

A certificate exists for every person-year whose 学时审验 is approved (审验通过). Its number is
``YYYY-PPPPPPPPPP-SSSSSSSSSS``: the year, the person id (ten digits) and ten digits of an
HMAC-SHA256 over both (digits only, so the number reads and types like any Chinese certificate number), keyed by a key derived from the app's ``SECRET_KEY``. So the number is stable
(printing twice gives the same number, no counter to race on), and a number someone made up or altered
does not verify. A ``certificate`` row is written at first issue (printing, the person's download, demo
seeding) and records when; the public verification page tells:

* valid: the signature holds and the year's verification is approved now;
* revoked: the certificate was issued, but the verification is no longer approved;
* unknown: a bad signature or format (forged, altered, mistyped), or nothing was ever issued.

Changing ``SECRET_KEY`` invalidates every number printed so far: keep it (config.py keeps the embedded one
in the instance folder).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from flask import current_app
from sqlalchemy import and_, func, select

from app.errors import NotFound
from app.extensions import db
from app.interface import MAX_ID
from app.models import Certificate, CreditVerification, Organisation, OrganisationType, Person, ReviewStatus
from app.scope import Scope, apply_scope, subtree_org_ids

NUMBER_PATTERN = re.compile(r"(\d{4})-(\d{10})-(\d{10})")
#: the longest text the verification page even looks at
NUMBER_MAX_LENGTH = 40
MIN_YEAR, MAX_YEAR = 1990, 2100
FILTER_MAX_LENGTH = 50


# ------------------------------------------------------------------ numbers
def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, b"jijiao certificate number v1", hashlib.sha256).digest()


def signature(year: int, person_id: int) -> str:
    digest = hmac.new(_key(), f"{year}:{person_id}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** 10:010d}"


def certificate_number(year: int, person_id: int) -> str:
    """The number of a person's certificate of a year: the same every time it is asked for."""
    return f"{year:04d}-{person_id:010d}-{signature(year, person_id)}"


def parse_number(text: object) -> Optional[tuple[int, int]]:
    """(year, person id) of a genuine number, None for anything malformed, forged or altered."""
    if not isinstance(text, str) or len(text) > NUMBER_MAX_LENGTH:
        return None
    match = NUMBER_PATTERN.fullmatch(text.strip().upper())
    if match is None:
        return None
    year, person_id = int(match.group(1)), int(match.group(2))
    if not (MIN_YEAR <= year <= MAX_YEAR and 0 < person_id <= MAX_ID):
        return None
    if not hmac.compare_digest(signature(year, person_id), match.group(3)):
        return None
    return year, person_id


# ------------------------------------------------------------------ masking (the public page)
def mask_name(name: Optional[str]) -> str:
    """张*明, 张*, 欧**锋: first and last character kept."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: Optional[str]) -> str:
    """4201**********0015: the first four and the last four characters kept."""
    number = (number or "").strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# ------------------------------------------------------------------ what a certificate says
@dataclass
class CertificateData:
    verification_id: int
    person_id: int
    year: int
    name: str
    id_number: str
    employer: str
    public_hours: int
    professional_hours: int
    required_hours: int
    verified_on: Optional[datetime.datetime]
    issued_on: Optional[datetime.datetime] = None

    @property
    def number(self) -> str:
        return certificate_number(self.year, self.person_id)

    @property
    def total_hours(self) -> int:
        return (self.public_hours or 0) + (self.professional_hours or 0)


_COLUMNS = (CreditVerification.id, CreditVerification.person_id, CreditVerification.year, Person.name,
            Person.id_number, Organisation.name, CreditVerification.public_hours,
            CreditVerification.professional_hours, CreditVerification.required_hours,
            CreditVerification.reviewed_on, Certificate.issued_on)


def _base_select():
    """Approved verifications with their person, employer and (when issued) certificate."""
    return (select(*_COLUMNS)
            .join(Person, Person.id == CreditVerification.person_id)
            .join(Organisation, Organisation.id == CreditVerification.employer_id)
            .outerjoin(Certificate, and_(Certificate.person_id == CreditVerification.person_id,
                                         Certificate.year == CreditVerification.year))
            .where(CreditVerification.status == ReviewStatus.approved))


def _data(row) -> CertificateData:
    return CertificateData(*row[:10], issued_on=row[10])


# ------------------------------------------------------------------ the scoped query
@dataclass
class Filters:
    name: str = ""
    id_number: str = ""
    unit: str = ""
    year: Optional[int] = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        def text(key):
            value = args.get(key, "")
            return value.strip()[:FILTER_MAX_LENGTH] if isinstance(value, str) else ""

        year = text("year")
        return cls(name=text("name"), id_number=text("id_number").upper(), unit=text("unit"),
                   year=int(year) if year.isdigit() and MIN_YEAR <= int(year) <= MAX_YEAR else None)

    def as_params(self) -> dict:
        return {"name": self.name, "id_number": self.id_number, "unit": self.unit,
                "year": str(self.year) if self.year else ""}


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(scope: Scope, filters: Filters, stmt=None):
    """Approved verifications in the scope matching the filters (name / ID number prefix, unit name, year)."""
    stmt = _base_select() if stmt is None else stmt
    stmt = apply_scope(stmt, CreditVerification, scope)
    if filters.year:
        stmt = stmt.where(CreditVerification.year == filters.year)
    if filters.name:
        stmt = stmt.where(Person.name.like(_like_prefix(filters.name), escape="\\"))
    if filters.id_number:
        stmt = stmt.where(Person.id_number.like(_like_prefix(filters.id_number), escape="\\"))
    if filters.unit:
        units = select(Organisation.id).where(Organisation.type == OrganisationType.employer,
                                              Organisation.name.like("%" + _like_prefix(filters.unit), escape="\\"))
        if not scope.is_all:
            units = units.where(Organisation.id.in_(subtree_org_ids(scope)))
        stmt = stmt.where(CreditVerification.employer_id.in_(units))
    return stmt


def count(scope: Scope, filters: Filters, cap: Optional[int] = None) -> int:
    ids = filtered(scope, filters, select(CreditVerification.id)
                   .join(Person, Person.id == CreditVerification.person_id)
                   .where(CreditVerification.status == ReviewStatus.approved))
    if cap is not None:
        ids = ids.limit(cap)
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def page(scope: Scope, filters: Filters, page_number: int, page_size: int) -> list[CertificateData]:
    stmt = (filtered(scope, filters)
            .order_by(CreditVerification.year.desc(), CreditVerification.org_path, CreditVerification.id)
            .offset(page_number * page_size).limit(page_size))
    return [_data(row) for row in db.session.execute(stmt)]


def years(scope: Scope) -> list[int]:
    stmt = apply_scope(select(CreditVerification.year).where(CreditVerification.status == ReviewStatus.approved)
                       .distinct(), CreditVerification, scope)
    return sorted(db.session.scalars(stmt), reverse=True)


def scoped_ids(scope: Scope, ids: Iterable[int]) -> list[int]:
    """The chosen verification ids that are approved and in the scope (anything else is dropped)."""
    wanted = sorted({i for i in ids if isinstance(i, int) and 0 < i <= MAX_ID})
    if not wanted:
        return []
    stmt = apply_scope(select(CreditVerification.id).where(CreditVerification.id.in_(wanted),
                                                           CreditVerification.status == ReviewStatus.approved),
                       CreditVerification, scope)
    return list(db.session.scalars(stmt.order_by(CreditVerification.org_path, CreditVerification.id)))


def one(scope: Scope, verification_id: int) -> CertificateData:
    """One certificate by its verification, in the scope; NotFound outside it or when not approved."""
    row = db.session.execute(apply_scope(_base_select().where(CreditVerification.id == verification_id),
                                         CreditVerification, scope)).first()
    if row is None:
        raise NotFound()
    return _data(row)


def for_ids(ids: list[int]) -> list[CertificateData]:
    """Certificates of these (already checked) verification ids, in the given order."""
    rows = {row[0]: _data(row) for row in db.session.execute(
        _base_select().where(CreditVerification.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def filtered_ids(scope: Scope, filters: Filters, limit: int) -> list[int]:
    stmt = filtered(scope, filters, select(CreditVerification.id)
                    .join(Person, Person.id == CreditVerification.person_id)
                    .where(CreditVerification.status == ReviewStatus.approved))
    stmt = stmt.order_by(CreditVerification.year.desc(), CreditVerification.org_path, CreditVerification.id)
    return list(db.session.scalars(stmt.limit(limit)))


# ------------------------------------------------------------------ the person's own
def own(person_id: int) -> list[CertificateData]:
    stmt = _base_select().where(CreditVerification.person_id == person_id).order_by(CreditVerification.year.desc())
    return [_data(row) for row in db.session.execute(stmt)]


def own_year(person_id: int, year: int) -> CertificateData:
    row = db.session.execute(_base_select().where(CreditVerification.person_id == person_id,
                                                  CreditVerification.year == year)).first()
    if row is None:
        raise NotFound()
    return _data(row)


# ------------------------------------------------------------------ issue
def issue(items: Iterable[CertificateData]) -> int:
    """Write the certificate rows not written yet (first issue); the caller's transaction commits them."""
    now = datetime.datetime.now()
    missing = [c for c in items if c.issued_on is None]
    if not missing:
        return 0
    existing = set(db.session.execute(
        select(Certificate.person_id, Certificate.year)
        .where(Certificate.person_id.in_({c.person_id for c in missing}))).all())
    rows = []
    for item in missing:
        if (item.person_id, item.year) in existing:
            continue
        existing.add((item.person_id, item.year))
        rows.append({"number": item.number, "person_id": item.person_id, "year": item.year, "issued_on": now})
    if rows:
        _insert_ignoring_duplicates(rows)
    for item in missing:
        item.issued_on = item.issued_on or now
    return len(rows)


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    """A concurrent first issue of the same certificate wrote the same number: nothing to add then."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(Certificate).on_conflict_do_nothing(), rows)


def issue_all_approved(chunk: int = 5000) -> int:
    """Issue every approved verification's certificate that has none yet (demo seeding, scale data)."""
    written = 0
    while True:
        batch = [_data(row) for row in db.session.execute(
            _base_select().where(Certificate.id.is_(None)).order_by(CreditVerification.id).limit(chunk))]
        if not batch:
            return written
        written += issue(batch)
        db.session.flush()
        if len(batch) < chunk:
            return written


# ------------------------------------------------------------------ public verification
@dataclass
class Verification:
    #: "valid", "revoked" or "unknown"
    state: str
    year: Optional[int] = None
    masked_name: str = ""
    masked_id_number: str = ""
    public_hours: int = 0
    professional_hours: int = 0
    verified_on: Optional[datetime.datetime] = None
    number: str = ""

    @property
    def total_hours(self) -> int:
        return (self.public_hours or 0) + (self.professional_hours or 0)


def verify(text: object) -> Verification:
    """What the public page says about a number: one indexed lookup for a genuine one, none otherwise."""
    parsed = parse_number(text)
    if parsed is None:
        return Verification("unknown")
    year, person_id = parsed
    row = db.session.execute(
        select(Person.name, Person.id_number, CreditVerification.status, CreditVerification.public_hours,
               CreditVerification.professional_hours, CreditVerification.reviewed_on, Certificate.id)
        .select_from(Person)
        .outerjoin(CreditVerification, and_(CreditVerification.person_id == Person.id,
                                            CreditVerification.year == year))
        .outerjoin(Certificate, and_(Certificate.person_id == Person.id, Certificate.year == year))
        .where(Person.id == person_id)).first()
    if row is None:
        return Verification("unknown")
    name, id_number, status, public, professional, reviewed_on, certificate_id = row
    number = certificate_number(year, person_id)
    if status == ReviewStatus.approved:
        return Verification("valid", year, mask_name(name), mask_id_number(id_number), public or 0,
                            professional or 0, reviewed_on, number)
    if certificate_id is not None:
        return Verification("revoked", year, mask_name(name), mask_id_number(id_number), number=number)
    return Verification("unknown")


def chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]

