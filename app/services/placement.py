"""Placement: where organisations and persons sit in the tree, and every move that changes it.

A person's ``org_path`` is a copy of the employer's materialised path, so that a subtree of personnel is
one index range. Every move goes through here so that copy stays right: a subtree re-parented (更换上级部门),
persons moved to another employer (人员调转, registration to another unit), an employer edited on a form
(the mapper event in ``app/models.py`` covers single ORM edits).
"""
from __future__ import annotations

from typing import Iterable, Optional

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, cast, func, literal, or_, select, update

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import (Account, Attachment, AuditLog, CreditRecord, CreditVerification, Organisation,
                        OrganisationType, Person, UserType)


def move_subtree(org_id: int, new_parent_id: int) -> None:
    """Re-parent an organisation: one UPDATE each rewrites the paths of its subtree, its persons and audit rows."""
    org = db.session.get(Organisation, org_id)
    parent = db.session.get(Organisation, new_parent_id)
    if org is None or parent is None:
        raise NotFound()
    if parent.path.startswith(org.path):
        raise InvalidInput(_("A department cannot be moved under itself or its own subordinates"))
    old_prefix, new_prefix = org.path, f"{parent.path}{org.id}/"
    delta = parent.depth + 1 - org.depth
    db.session.execute(
        update(Organisation)
        .where(Organisation.path.like(old_prefix + "%"))
        .values(
            path=literal(new_prefix) + func.substr(Organisation.path, len(old_prefix) + 1),
            depth=Organisation.depth + delta,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Organisation).where(Organisation.id == org.id).values(parent_id=parent.id)
        .execution_options(synchronize_session=False)
    )
    _rewrite_prefix(Person.org_path, old_prefix, new_prefix)
    # credit records and verifications carry the employer's path (the review lists' index range)
    _rewrite_prefix(CreditRecord.org_path, old_prefix, new_prefix)
    _rewrite_prefix(CreditVerification.org_path, old_prefix, new_prefix)
    # the audit trail and the files of the subtree follow it, so the new parent's scope sees them
    _rewrite_prefix(AuditLog.org_path, old_prefix, new_prefix)
    _rewrite_prefix(Attachment.org_path, old_prefix, new_prefix)
    db.session.expire_all()


def _rewrite_prefix(column, old_prefix: str, new_prefix: str) -> None:
    db.session.execute(
        update(column.class_)
        .where(column.like(old_prefix + "%"))
        .values({column.key: literal(new_prefix) + func.substr(column, len(old_prefix) + 1)})
        .execution_options(synchronize_session=False)
    )


def move_persons(person_ids: Iterable[int], employer_id: int,
                 internal_department_id: Optional[int] = None) -> int:
    """Persons change employer (set-based): employer, internal department and org_path in one UPDATE."""
    ids = list(person_ids)
    employer = db.session.get(Organisation, employer_id)
    if employer is None or employer.type != OrganisationType.employer:
        raise InvalidInput(_("Personnel must be employed by an employer unit"))
    if not ids:
        return 0
    result = db.session.execute(
        update(Person).where(Person.id.in_(ids))
        .values(employer_id=employer.id, org_path=employer.path, internal_department_id=internal_department_id)
        .execution_options(synchronize_session=False)
    )
    _logins_follow(select(Person.id).where(Person.id.in_(ids)))
    _credit_follows(select(Person.id).where(Person.id.in_(ids)))
    db.session.expire_all()
    return result.rowcount


def relocate_persons(moves: Select) -> int:
    """Many persons to many employers at once (人员调转 in a batch): one UPDATE of the persons, one of their logins.

    ``moves`` selects ``person_id``, ``employer_id`` and ``internal_department_id`` (labelled so); every
    employer must be an employer unit. Each person's org_path becomes the new employer's path.
    """
    source = moves.subquery("moves")
    wrong = db.session.scalar(
        select(func.count()).select_from(source)
        .outerjoin(Organisation, Organisation.id == source.c.employer_id)
        .where(or_(Organisation.id.is_(None), Organisation.type != OrganisationType.employer))
    )
    if wrong:
        raise InvalidInput(_("Personnel must be employed by an employer unit"))
    result = db.session.execute(
        update(Person)
        .where(Person.id == source.c.person_id, Organisation.id == source.c.employer_id)
        .values(employer_id=source.c.employer_id, org_path=Organisation.path,
                # typed, so that a NULL of a literal source is not taken for text (PostgreSQL)
                internal_department_id=cast(source.c.internal_department_id, Integer))
        .execution_options(synchronize_session=False)
    )
    _logins_follow(select(source.c.person_id))
    _credit_follows(select(source.c.person_id))
    db.session.expire_all()
    return result.rowcount


def _logins_follow(person_ids: Select) -> None:
    """A person's own login (专技人员) belongs to the employer; an admin login of the same person does not move."""
    db.session.execute(
        update(Account)
        .where(Account.id == Person.account_id, Person.id.in_(person_ids),
               Account.user_type == UserType.personnel)
        .values(organisation_id=Person.employer_id, internal_department_id=Person.internal_department_id)
        .execution_options(synchronize_session=False)
    )


def _credit_follows(person_ids: Select) -> None:
    """A person's credit records, their evidence files and verifications move with them (to the new employer's
    chain: a confirmed transfer takes the person's hours along). Summaries are per person: unchanged."""
    for model in (CreditRecord, CreditVerification):
        db.session.execute(
            update(model)
            .where(model.person_id == Person.id, Person.id.in_(person_ids))
            .values(employer_id=Person.employer_id, org_path=Person.org_path)
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Attachment)
        .where(Attachment.owner_kind == "credit_record", Attachment.owner_id == CreditRecord.id,
               CreditRecord.person_id.in_(person_ids))
        .values(org_path=CreditRecord.org_path)
        .execution_options(synchronize_session=False)
    )


def misplaced_persons(limit: int = 20) -> list[tuple[int, str, str]]:
    """(person id, org_path, employer path) of persons whose copy of the path is wrong: the invariant check."""
    rows = db.session.execute(
        select(Person.id, Person.org_path, Organisation.path)
        .join(Organisation, Organisation.id == Person.employer_id)
        .where(Person.org_path != Organisation.path)
        .order_by(Person.id).limit(limit)
    ).all()
    return [tuple(r) for r in rows]
