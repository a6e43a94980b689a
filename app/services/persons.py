"""Person rules: gender and birth date come from the ID number; one record per ID number."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Gender, OrganisationType, Person
from app.services.transaction import ServiceError
from app.validators import id_number_info, validate_id_number


def fill_from_id_number(person: Person) -> None:
    birth, gender = id_number_info(person.id_number)
    person.birth_date = birth
    person.gender = Gender(gender)


def validate_person(person: Person) -> None:
    employer = person.employer
    if employer is not None and employer.type != OrganisationType.employer:
        raise ServiceError(_("Personnel must be employed by an employer unit"))
    dept = person.internal_department
    if dept is not None and employer is not None and dept.organisation_id != employer.id:
        raise ServiceError(_("The internal department does not belong to the employer unit"))


def prepare_new_person(person: Person) -> None:
    try:
        person.id_number = validate_id_number(person.id_number or "")
    except ValueError as exc:
        raise ServiceError(str(exc), field="id_number") from None
    exists = db.session.scalar(select(Person.id).where(Person.id_number == person.id_number))
    if exists is not None:
        raise ServiceError(_("A person with this ID number already exists"))
    fill_from_id_number(person)
    validate_person(person)


def ensure_deletable(person: Person) -> None:
    """A person with a history (credit hours, verifications, certificates, transfers) is kept, not deleted."""
    from app.errors import Conflict
    from app.models import Certificate, CreditRecord, CreditVerification, Transfer

    for model in (CreditRecord, CreditVerification, Certificate, Transfer):
        if db.session.scalar(select(model.id).where(model.person_id == person.id).limit(1)) is not None:
            raise Conflict(_("This person has credit hours, verifications, certificates or transfers on record "
                             "and cannot be deleted; disable the person instead"))
