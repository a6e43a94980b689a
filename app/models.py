"""All tables of the product, sectioned by area."""
from __future__ import annotations

import datetime
import decimal
import enum
from typing import Optional

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    BigInteger,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship


def _now() -> datetime.datetime:
    return datetime.datetime.now()


def _enum(cls, name):
    """Store enum values (not names) as short strings, portable across databases."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=max(20, *(len(m.value) for m in cls)),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class LabelledEnum(str, enum.Enum):
    """A str enum whose members carry a translated title for display."""

    @property
    def label(self):
        """Translated (lazy) label."""
        return self._labels()[self.value]

    @classmethod
    def choices(cls):
        return [(m.value, m.label) for m in cls]

    def __str__(self) -> str:
        return str(self.label)


#: a materialised path compared byte by byte, so LIKE 'prefix%' and ORDER BY share one index
PATH_TYPE = String(255).with_variant(String(255, collation="C"), "postgresql")


# --------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------


class OrganisationType(LabelledEnum):
    province = "province"
    supervisory = "supervisory"
    employer = "employer"
    training_base = "training_base"

    @classmethod
    def _labels(cls):
        return {
            "province": _l("Provincial department"),
            "supervisory": _l("Supervisory department"),
            "employer": _l("Employer unit"),
            "training_base": _l("Training base"),
        }


class OrganisationStatus(LabelledEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    disabled = "disabled"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("Pending review"),
            "approved": _l("Approved"),
            "rejected": _l("Rejected"),
            "withdrawn": _l("Withdrawn"),
            "disabled": _l("Disabled"),
        }


class Organisation(Model):
    __tablename__ = "organisation"
    __table_args__ = (
        Index(
            "ix_organisation_path_prefix",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
        ),
        Index("ix_organisation_parent_id", "parent_id"),
        Index("ix_organisation_type_status", "type", "status"),
        Index("ix_organisation_name", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[OrganisationType] = mapped_column(
        _enum(OrganisationType, "organisation_type"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: 统一社会信用代码 (GB 32100); unique where given
    uscc: Mapped[Optional[str]] = mapped_column(String(18), unique=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    #: materialised path of ids, e.g. "/1/12/345/", always ending in "/"
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="/")
    #: number of ancestors; the province has depth 0
    depth: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    region: Mapped[Optional[str]] = mapped_column(String(100))
    contact_person: Mapped[Optional[str]] = mapped_column(String(50))
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    address: Mapped[Optional[str]] = mapped_column(String(255))
    status: Mapped[OrganisationStatus] = mapped_column(
        _enum(OrganisationStatus, "organisation_status"),
        nullable=False,
        default=OrganisationStatus.pending,
    )
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now)

    parent: Mapped[Optional["Organisation"]] = relationship(
        remote_side=[id], back_populates="children"
    )
    children: Mapped[list["Organisation"]] = relationship(back_populates="parent")
    departments: Mapped[list["InternalDepartment"]] = relationship(
        back_populates="organisation"
    )

    def __repr__(self) -> str:
        return self.name

    def place_under(self, parent: Optional["Organisation"]) -> None:
        """Set parent, path and depth together; the id must be known (flushed)."""
        self.parent = parent
        prefix = parent.path if parent is not None else "/"
        self.path = f"{prefix}{self.id}/"
        self.depth = 0 if parent is None else parent.depth + 1

    @classmethod
    def scope_org_id_column(cls):
        return cls.id


class InternalDepartment(Model):
    """内设部门 of an organisation."""

    __tablename__ = "internal_department"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    remark: Mapped[Optional[str]] = mapped_column(String(255))

    organisation: Mapped[Organisation] = relationship(back_populates="departments")

    def __repr__(self) -> str:
        return self.name

    @classmethod
    def scope_org_id_column(cls):
        return cls.organisation_id


# --------------------------------------------------------------------------
# Accounts (the FAB user, extended)
# --------------------------------------------------------------------------


class UserType(LabelledEnum):
    supervisory = "supervisory"
    employer = "employer"
    training_base = "training_base"
    personnel = "personnel"

    @classmethod
    def _labels(cls):
        return {
            "supervisory": _l("Supervisory department"),
            "employer": _l("Employer unit"),
            "training_base": _l("Training base"),
            "personnel": _l("Professional personnel"),
        }


class Account(User):
    """A login: FAB's ab_user with the ID number as username and an organisation."""

    __tablename__ = "ab_user"
    __table_args__ = (
        Index(
            "uq_ab_user_one_super_admin",
            "organisation_id",
            unique=True,
            postgresql_where=text("is_super_admin"),
            sqlite_where=text("is_super_admin = 1"),
        ),
        Index("ix_ab_user_organisation_id", "organisation_id"),
        {"extend_existing": True},
    )

    #: 居民身份证号, also the FAB username
    id_number: Mapped[Optional[str]] = mapped_column(String(18), unique=True)
    real_name: Mapped[Optional[str]] = mapped_column(String(50))
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    internal_department_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("internal_department.id")
    )
    user_type: Mapped[Optional[UserType]] = mapped_column(_enum(UserType, "user_type"))
    #: the organisation's 超级管理员; at most one per organisation (partial unique index)
    is_super_admin: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    #: set after repeated failed logins; login refused until then
    locked_until: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime)
    #: set when an admin resets the password; the user must choose a new one
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
    #: bumped whenever what the account may do or prove changes (password changed or reset, logout,
    #: disabled, roles changed): web sessions and tokens carrying an older version are refused
    credential_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )

    organisation: Mapped[Optional[Organisation]] = relationship(
        foreign_keys=[organisation_id]
    )
    internal_department: Mapped[Optional[InternalDepartment]] = relationship(
        foreign_keys=[internal_department_id]
    )

    def get_full_name(self) -> str:
        return self.real_name or self.username

    def __repr__(self) -> str:
        return self.get_full_name()

    @classmethod
    def scope_org_id_column(cls):
        return cls.organisation_id


# --------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------


class TitleSeries(Model):
    """职称系列 (national list of 27), seeded reference data."""

    __tablename__ = "title_series"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def __repr__(self) -> str:
        return self.name


class TitleLevel(Model):
    """职称级别: 正高级, 副高级, 中级, 助理级, 员级."""

    __tablename__ = "title_level"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def __repr__(self) -> str:
        return self.name


# --------------------------------------------------------------------------
# Personnel
# --------------------------------------------------------------------------


class Gender(LabelledEnum):
    male = "male"
    female = "female"

    @classmethod
    def _labels(cls):
        return {"male": _l("Male"), "female": _l("Female")}


class PersonStatus(LabelledEnum):
    pending = "pending"
    active = "active"
    rejected = "rejected"
    withdrawn = "withdrawn"
    left = "left"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("Pending review"),
            "active": _l("Active"),
            "rejected": _l("Rejected"),
            "withdrawn": _l("Withdrawn"),
            "left": _l("Left"),
        }


class Education(LabelledEnum):
    doctorate = "doctorate"
    master = "master"
    bachelor = "bachelor"
    college = "college"
    secondary = "secondary"
    other = "other"

    @classmethod
    def _labels(cls):
        return {
            "doctorate": _l("Doctorate"),
            "master": _l("Master"),
            "bachelor": _l("Bachelor"),
            "college": _l("Junior college"),
            "secondary": _l("Secondary school"),
            "other": _l("Other"),
        }


class Person(Model):
    """专技人员: a professional employed by an employer unit."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_employer_id", "employer_id", "id"),
        # the scope filter and the list's default order: one range scan per subtree, already sorted
        Index("ix_person_org_path", "org_path", "id"),
        # prefix search by name, within a subtree too: the index carries org_path (PostgreSQL INCLUDE),
        # so the scope is checked without visiting the table, and the id (0017): subqueries of person ids
        # by name prefix are index-only scans
        Index("ix_person_name", "name", postgresql_ops={"name": "varchar_pattern_ops"},
              postgresql_include=["org_path", "id"]),
        # prefix search by ID number (the unique index cannot serve LIKE under a non-C collation)
        Index("ix_person_id_number_prefix", "id_number", postgresql_ops={"id_number": "varchar_pattern_ops"}),
        Index("ix_person_title_series_level", "title_series_id", "title_level_id"),
        # 职称系列分布 (查询统计): counts by series × level × status of a subtree read this index alone
        # (an index-only range scan, no heap visit)
        Index("ix_person_org_title", "org_path", "title_series_id", "title_level_id", "status"),
        # no index led by status: 98% of rows are active. ix_person_org_title carries it, so a status
        # change (an approval) is no HOT update and rewrites person's index entries; the batch approval
        # measured the same with and without it (docs/benchmark.md, issue 13)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    #: derived from the ID number
    gender: Mapped[Gender] = mapped_column(_enum(Gender, "gender"), nullable=False)
    #: derived from the ID number
    birth_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    phone: Mapped[Optional[str]] = mapped_column(String(20))
    education: Mapped[Optional[Education]] = mapped_column(_enum(Education, "education"))
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    #: the employer's materialised path, copied here so a subtree is one ordered index range
    #: (kept by the mapper events below and by subtree moves); byte order ("C") on PostgreSQL
    org_path: Mapped[str] = mapped_column(PATH_TYPE, nullable=False, default="", server_default="")
    internal_department_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("internal_department.id"), index=True
    )
    title_series_id: Mapped[Optional[int]] = mapped_column(ForeignKey("title_series.id"))
    title_level_id: Mapped[Optional[int]] = mapped_column(ForeignKey("title_level.id"))
    title_name: Mapped[Optional[str]] = mapped_column(String(100))
    title_date: Mapped[Optional[datetime.date]] = mapped_column(Date)
    status: Mapped[PersonStatus] = mapped_column(
        _enum(PersonStatus, "person_status"), nullable=False, default=PersonStatus.active
    )
    account_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), unique=True)
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now)

    employer: Mapped[Organisation] = relationship()
    internal_department: Mapped[Optional[InternalDepartment]] = relationship()
    title_series: Mapped[Optional[TitleSeries]] = relationship()
    title_level: Mapped[Optional[TitleLevel]] = relationship()
    account: Mapped[Optional[Account]] = relationship()

    def __repr__(self) -> str:
        return self.name

    @classmethod
    def scope_org_id_column(cls):
        return cls.employer_id

    @classmethod
    def scope_path_column(cls):
        return cls.org_path


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _copy_employer_path(mapper, connection, person: Person) -> None:
    """person.org_path always equals its employer's path."""
    employer = person.__dict__.get("employer")
    if employer is not None and employer.id == person.employer_id and employer.path:
        person.org_path = employer.path
        return
    person.org_path = connection.scalar(
        select(Organisation.path).where(Organisation.id == person.employer_id)
    ) or ""


# --------------------------------------------------------------------------
# Audit
# --------------------------------------------------------------------------


def _current_request_id() -> Optional[str]:
    from app.logs import current_request_id

    return current_request_id()


class AuditLog(Model):
    """One row per change anyone makes: who, what, to which object, before/after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_created_on", "created_on"),
        Index("ix_audit_log_actor_id", "actor_id"),
        Index("ix_audit_log_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    object_type: Mapped[str] = mapped_column(String(50), nullable=False)
    object_id: Mapped[Optional[int]] = mapped_column(Integer)
    #: path of the organisation the object belongs to, so audit browsing is scoped
    org_path: Mapped[Optional[str]] = mapped_column(String(255))
    before: Mapped[Optional[str]] = mapped_column(Text)
    after: Mapped[Optional[str]] = mapped_column(Text)
    comment: Mapped[Optional[str]] = mapped_column(String(500))
    #: for review transitions: the state before and after
    from_state: Mapped[Optional[str]] = mapped_column(String(20))
    to_state: Mapped[Optional[str]] = mapped_column(String(20))
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now, nullable=False)
    #: the request (or the job a request started) that made the change: finds its log lines (app/logs.py)
    request_id: Mapped[Optional[str]] = mapped_column(String(64), default=_current_request_id)

    actor: Mapped[Optional[Account]] = relationship(foreign_keys=[actor_id])


# --------------------------------------------------------------------------
# Reviews: one state machine for everything someone submits (docs/review-kinds.md)
# --------------------------------------------------------------------------


class ReviewStatus(LabelledEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("Pending review"),
            "approved": _l("Approved"),
            "rejected": _l("Rejected"),
            "withdrawn": _l("Withdrawn"),
        }


class Reviewable:
    """Columns every reviewable item carries; the workflow service drives them."""

    status: Mapped[ReviewStatus] = mapped_column(
        _enum(ReviewStatus, "review_status"), nullable=False, default=ReviewStatus.pending
    )
    submitted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    submitted_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now, nullable=False)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    reviewed_on: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime)
    #: 驳回原因, shown to the submitter
    reject_reason: Mapped[Optional[str]] = mapped_column(String(500))

    @property
    def status_text(self) -> str:
        """The review state as the lists show it."""
        return str(self.status.label) if self.status is not None else ""


class ReviewKind(LabelledEnum):
    person_registration = "person_registration"
    unit_registration = "unit_registration"
    base_registration = "base_registration"
    supervisory_registration = "supervisory_registration"
    person_change = "person_change"
    organisation_change = "organisation_change"
    parent_change = "parent_change"

    @classmethod
    def _labels(cls):
        return {
            "person_registration": _l("Personnel registration"),
            "unit_registration": _l("Unit registration"),
            "base_registration": _l("Training base registration"),
            "supervisory_registration": _l("Supervisory department registration"),
            "person_change": _l("Personnel information change"),
            "organisation_change": _l("Organisation information change"),
            "parent_change": _l("Parent department change"),
        }


class ReviewRequest(Reviewable, Model):
    """A registration or change request awaiting a department's decision."""

    __tablename__ = "review_request"
    __table_args__ = (
        Index(
            "uq_review_request_one_pending",
            "kind",
            "subject_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_review_request_kind_status_org", "kind", "status", "org_id"),
        Index("ix_review_request_target_org_id", "target_org_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ReviewKind] = mapped_column(_enum(ReviewKind, "review_kind"), nullable=False)
    #: the person or organisation the request is about
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the subject's name and ID number / credit code when submitted, so lists need no joins
    subject_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    subject_code: Mapped[Optional[str]] = mapped_column(String(18))
    #: organisation whose supervisory chain reviews it (the employer, or the organisation itself)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    #: a second reviewing side: the new parent of a parent change
    target_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    #: JSON of the values before and after, for change requests
    before: Mapped[Optional[str]] = mapped_column(Text)
    after: Mapped[Optional[str]] = mapped_column(Text)
    #: two-party decisions (parent change): who approved on each side
    source_approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    target_approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))

    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    target_organisation: Mapped[Optional[Organisation]] = relationship(foreign_keys=[target_org_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="ReviewRequest.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="ReviewRequest.reviewed_by_id")

    def __repr__(self) -> str:
        return f"{self.kind.label} #{self.id}"

    @property
    def status_text(self) -> str:
        """A two-sided request one side has approved reads as such, not as plainly pending."""
        if self.status == ReviewStatus.pending and (self.source_approved_by_id or self.target_approved_by_id):
            return str(_l("Approved by one side (awaiting the other)"))
        return super().status_text

    @classmethod
    def scope_org_id_column(cls):
        return cls.org_id

    @classmethod
    def scope_condition(cls, org_ids):
        """Visible from either side: the subject's chain or, for a parent change, the new parent's."""
        return or_(cls.org_id.in_(org_ids), cls.target_org_id.in_(org_ids))


# --------------------------------------------------------------------------
# Custom roles (manual 5.1.1.3.1): FAB's ab_role, extended with an owning organisation
# --------------------------------------------------------------------------

from flask_appbuilder.security.sqla.models import Role  # noqa: E402


class OrganisationRole(Role):
    """A role an organisation defines for its own admins (template roles have no organisation).

    FAB's ab_role.name is globally unique, so a custom role stores an internal name
    ("org<organisation id>:<label>") and shows its label; labels repeat across organisations.
    """

    __tablename__ = "ab_role"
    __table_args__ = (
        UniqueConstraint("organisation_id", "label", name="uq_ab_role_organisation_label"),
        Index("ix_ab_role_organisation_id", "organisation_id"),
        {"extend_existing": True},
    )

    organisation_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE", name="fk_ab_role_organisation_id")
    )
    #: the name users see (角色名称); unique within the organisation
    label: Mapped[Optional[str]] = mapped_column(String(64))

    organisation: Mapped[Optional[Organisation]] = relationship(foreign_keys=[organisation_id])

    def __repr__(self) -> str:
        return self.label or self.name

    @classmethod
    def scope_org_id_column(cls):
        return cls.organisation_id


# --------------------------------------------------------------------------
# Files: attachments of any record, kept in the file store (app/storage.py)
# --------------------------------------------------------------------------


class Attachment(Model):
    """A file attached to a record; the bytes live in the file store under a server-generated name."""

    __tablename__ = "attachment"
    __table_args__ = (
        Index("ix_attachment_owner", "owner_kind", "owner_id"),
        Index("ix_attachment_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: what kind of record owns the file (its table name, e.g. "review_request")
    owner_kind: Mapped[str] = mapped_column(String(50), nullable=False)
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the owner's organisation path when attached: the scope filter of downloads
    org_path: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    #: the name the uploader's computer gave the file (shown and used for downloads only)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    #: the file store's name: generated, never derived from user input
    server_name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: hex SHA-256 of the content
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: derived from the checked extension, never from what the browser claimed
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    uploaded_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now, nullable=False)

    uploaded_by: Mapped[Optional[Account]] = relationship(foreign_keys=[uploaded_by_id])

    def __repr__(self) -> str:
        return self.original_name

    @classmethod
    def scope_path_column(cls):
        return cls.org_path


# --------------------------------------------------------------------------
# Background jobs: long work with progress, results scoped to the owner (app/jobs/)
# --------------------------------------------------------------------------


class JobStatus(LabelledEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"

    @classmethod
    def _labels(cls):
        return {
            "queued": _l("Queued"),
            "running": _l("Running"),
            "succeeded": _l("Finished"),
            "failed": _l("Failed"),
        }


class Job(Model):
    """One piece of long work (an export, an import...) run by a worker, with its progress and result."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_owner_id", "owner_id", "id"),
        Index("ix_job_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    #: the registered task, e.g. "export" or "import"
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    #: what the user sees in 我的任务, e.g. "导出 专技人员"
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: JSON of the task's arguments
    params: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"), nullable=False, default=JobStatus.queued
    )
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the outcome in Chinese (or the reason it failed)
    message: Mapped[Optional[str]] = mapped_column(String(1000))
    #: JSON a task leaves for the pages that follow it (e.g. an import's preview)
    result: Mapped[Optional[str]] = mapped_column(Text)
    #: the result file in the file store, and the name it is downloaded under
    result_file: Mapped[Optional[str]] = mapped_column(String(100))
    result_name: Mapped[Optional[str]] = mapped_column(String(255))
    #: the worker run that owns the job now; every write of a run is guarded by it
    claim: Mapped[Optional[str]] = mapped_column(String(64))
    #: host:pid of the claiming worker (for operators)
    worker: Mapped[Optional[str]] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now, nullable=False)
    started_on: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime)
    #: written by the running worker every JOB_HEARTBEAT_SECONDS; a stale one means the worker died
    heartbeat_on: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime)
    finished_on: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime)

    owner: Mapped[Optional[Account]] = relationship(foreign_keys=[owner_id])

    def __repr__(self) -> str:
        return self.title or self.kind


# --------------------------------------------------------------------------
# Training plans (manual 5.1.5): annual plans, programme declarations, annual summaries of the bases
# --------------------------------------------------------------------------

#: reviewable states that hold "the" item of an organisation and year (a rejected or withdrawn one does not)
HOLDING_STATES = "status IN ('pending', 'approved')"


class SubjectKind(LabelledEnum):
    """公需科目 (law, policy, ethics, general knowledge) / 专业科目 (the profession's own subjects)."""

    public = "public"
    professional = "professional"

    @classmethod
    def _labels(cls):
        return {"public": _l("Public subjects"), "professional": _l("Professional subjects")}


class LearningMode(LabelledEnum):
    """网络学习 / 面授."""

    online = "online"
    offline = "offline"

    @classmethod
    def _labels(cls):
        return {"online": _l("Online learning"), "offline": _l("Face-to-face training")}


class SubmittedByOrganisation:
    """An item an organisation submits (``org_id``) for its supervisory chain to review; scoped by it."""

    @classmethod
    def scope_org_id_column(cls):
        return cls.org_id


class TrainingPlan(SubmittedByOrganisation, Reviewable, Model):
    """年度培训计划 of a training base: one per base and year unless rejected or withdrawn."""

    __tablename__ = "training_plan"
    __table_args__ = (
        Index("uq_training_plan_one_per_year", "org_id", "year", unique=True,
              postgresql_where=text(HOLDING_STATES), sqlite_where=text(HOLDING_STATES)),
        Index("ix_training_plan_org_status", "org_id", "status"),
        Index("ix_training_plan_submitted_on", "submitted_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: how many training programmes (classes) the base plans to run in the year
    planned_programmes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: 学时 the base plans to deliver in the year
    planned_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="TrainingPlan.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="TrainingPlan.reviewed_by_id")

    def __repr__(self) -> str:
        return f"{self.year} {self.title}"


class TrainingProgramme(SubmittedByOrganisation, Reviewable, Model):
    """培训计划申报: one training programme a base (or a unit, for its own staff) declares."""

    __tablename__ = "training_programme"
    __table_args__ = (
        Index("ix_training_programme_org_status", "org_id", "status"),
        Index("ix_training_programme_submitted_on", "submitted_on"),
        Index("ix_training_programme_status_start", "status", "start_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stable code the credit-hour records refer to once approved (PX<year><id>); given at the first submission
    code: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    #: the year of the start date (the lists filter by it)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    subject_kind: Mapped[SubjectKind] = mapped_column(_enum(SubjectKind, "subject_kind"), nullable=False)
    mode: Mapped[LearningMode] = mapped_column(_enum(LearningMode, "learning_mode"), nullable=False)
    start_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    #: planned 学时 a trainee earns
    hours: Mapped[int] = mapped_column(Integer, nullable=False)
    planned_trainees: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: venue of a face-to-face class, or the learning platform of an online one
    venue: Mapped[Optional[str]] = mapped_column(String(200))
    #: fee per trainee in yuan, in fen (1/100 yuan) so that no database rounds it
    fee_fen: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    description: Mapped[Optional[str]] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="TrainingProgramme.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="TrainingProgramme.reviewed_by_id")

    def __repr__(self) -> str:
        return f"{self.code or ''} {self.name}".strip()

    @property
    def fee(self) -> decimal.Decimal:
        """The fee in yuan (forms and pages show yuan; the column keeps fen)."""
        return (decimal.Decimal(self.fee_fen or 0) / 100).quantize(decimal.Decimal("0.01"))


class WorkSummary(SubmittedByOrganisation, Reviewable, Model):
    """年度工作总结 of a training base: one per base and year unless rejected or withdrawn."""

    __tablename__ = "work_summary"
    __table_args__ = (
        Index("uq_work_summary_one_per_year", "org_id", "year", unique=True,
              postgresql_where=text(HOLDING_STATES), sqlite_where=text(HOLDING_STATES)),
        Index("ix_work_summary_org_status", "org_id", "status"),
        Index("ix_work_summary_submitted_on", "submitted_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    classes_held: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    trainees: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: 学时 delivered in the year (trainees × hours, summed over the classes)
    hours_delivered: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="WorkSummary.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="WorkSummary.reviewed_by_id")

    def __repr__(self) -> str:
        return f"{self.year} {self.organisation.name if self.organisation else ''}".strip()


# --------------------------------------------------------------------------
# Transfers (manual 5.1.6): a person moves from one employer unit to another
# --------------------------------------------------------------------------


class Transfer(Reviewable, Model):
    """人员调转: filed by the sending side (调出), confirmed by the receiving side (调入审核)."""

    __tablename__ = "transfer"
    __table_args__ = (
        Index("uq_transfer_one_pending", "person_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        Index("ix_transfer_person_id", "person_id"),
        Index("ix_transfer_to_org_status", "to_org_id", "status"),
        Index("ix_transfer_from_org_id", "from_org_id"),
        Index("ix_transfer_submitted_on", "submitted_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), nullable=False)
    #: the employer unit the person leaves (the person's employer when the transfer was filed)
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    #: the employer unit the person joins; its admins, or a department above it, confirm
    to_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    #: internal department of the receiving unit, chosen when confirming (else none)
    to_department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("internal_department.id"))
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    effective_date: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    #: the person's data when the transfer was filed: all the receiving side sees of the person
    person_name: Mapped[str] = mapped_column(String(50), nullable=False)
    id_number: Mapped[str] = mapped_column(String(18), nullable=False)
    gender: Mapped[Optional[Gender]] = mapped_column(_enum(Gender, "gender"))
    birth_date: Mapped[Optional[datetime.date]] = mapped_column(Date)
    education: Mapped[Optional[Education]] = mapped_column(_enum(Education, "education"))
    title_series_id: Mapped[Optional[int]] = mapped_column(ForeignKey("title_series.id"))
    title_level_id: Mapped[Optional[int]] = mapped_column(ForeignKey("title_level.id"))
    title_name: Mapped[Optional[str]] = mapped_column(String(100))

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_org_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_org_id])
    to_department: Mapped[Optional[InternalDepartment]] = relationship(foreign_keys=[to_department_id])
    title_series: Mapped[Optional[TitleSeries]] = relationship(foreign_keys=[title_series_id])
    title_level: Mapped[Optional[TitleLevel]] = relationship(foreign_keys=[title_level_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="Transfer.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="Transfer.reviewed_by_id")

    def __repr__(self) -> str:
        return f"{self.person_name}（{self.id_number}）"

    @property
    def route_paths(self) -> tuple:
        """(sending unit's path, receiving unit's path): 调转记录 tells 调入 from 调出 by them."""
        return (self.from_organisation.path, self.to_organisation.path)

    @classmethod
    def scope_org_id_column(cls):
        return cls.from_org_id

    @classmethod
    def scope_condition(cls, org_ids):
        """Both sides keep seeing a transfer: the sending unit's chain and the receiving unit's."""
        return or_(cls.from_org_id.in_(org_ids), cls.to_org_id.in_(org_ids))


# --------------------------------------------------------------------------
# Annual work materials (manual 5.3): a department reports to its parent
# --------------------------------------------------------------------------


class WorkMaterial(SubmittedByOrganisation, Reviewable, Model):
    """年度工作材料: a department's 学习指南 / 工作通知 files of a year, reviewed by its parent."""

    __tablename__ = "work_material"
    __table_args__ = (
        Index("ix_work_material_org_status", "org_id", "status"),
        Index("ix_work_material_submitted_on", "submitted_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    #: 报送年度
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    remarks: Mapped[Optional[str]] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[org_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="WorkMaterial.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="WorkMaterial.reviewed_by_id")

    def __repr__(self) -> str:
        return f"{self.year} {self.title}"


# --------------------------------------------------------------------------
# Credit hours (manual 5.2 and 学时审验): settings, records, per-person-year summaries, verifications
# --------------------------------------------------------------------------


class CreditRequirement(Model):
    """年度学时要求: the rule of one year (nationally 90 学时, 专业科目 at least 2/3), edited by the province admin."""

    __tablename__ = "credit_requirement"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    total_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    #: 专业科目 must reach numerator/denominator of ``total_hours`` (2/3 nationally); kept as a fraction so
    #: that the check is exact integer arithmetic in SQL
    professional_numerator: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    professional_denominator: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    #: a closed year takes no more declarations or imports
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    @property
    def professional_hours(self) -> int:
        """The least 专业科目 hours that meet the rule (rounded up)."""
        return -(-self.total_hours * self.professional_numerator // self.professional_denominator)

    def is_met(self, public_hours: int, professional_hours: int) -> bool:
        total = (public_hours or 0) + (professional_hours or 0)
        return (total >= self.total_hours
                and (professional_hours or 0) * self.professional_denominator
                >= self.total_hours * self.professional_numerator)

    def __repr__(self) -> str:
        return str(self.year)


class CreditStandard(Model):
    """授分标准: how many 学时 one unit of an activity (a paper, a conference day...) earns, and its yearly cap."""

    __tablename__ = "credit_standard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: the unit the quantity counts, e.g. 篇, 天, 门
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    hours_per_unit: Mapped[int] = mapped_column(Integer, nullable=False)
    #: most 学时 a person earns from this item in one year (None: no cap)
    yearly_cap: Mapped[Optional[int]] = mapped_column(Integer)
    subject_kind: Mapped[SubjectKind] = mapped_column(_enum(SubjectKind, "subject_kind"), nullable=False)
    mode: Mapped[LearningMode] = mapped_column(_enum(LearningMode, "learning_mode"), nullable=False,
                                               default=LearningMode.offline)
    #: the standard applies to activities completed in first_year .. last_year (None: still valid)
    first_year: Mapped[int] = mapped_column(Integer, nullable=False)
    last_year: Mapped[Optional[int]] = mapped_column(Integer)

    def applies_to(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)

    def __repr__(self) -> str:
        return f"{self.name}（{self.hours_per_unit}学时/{self.unit}）"


class CreditDeclarer(LabelledEnum):
    """Who declared a record: the person, a training base for its trainees, or the employer for its staff (代报)."""

    person = "person"
    training_base = "training_base"
    employer = "employer"

    @classmethod
    def _labels(cls):
        return {"person": _l("Self-declared"), "training_base": _l("Training base"),
                "employer": _l("Employer unit")}


class CreditChannel(LabelledEnum):
    """How a record entered: a form, an Excel import or the REST import of a learning platform."""

    form = "form"
    excel = "excel"
    api = "api"

    @classmethod
    def _labels(cls):
        return {"form": _l("Form"), "excel": _l("Excel import"), "api": _l("Platform interface")}


#: credit records that count (and block a duplicate): pending or approved
ACTIVE_CREDIT = "status IN ('pending', 'approved')"


class CreditRecord(Reviewable, Model):
    """学时记录: hours one person earned from one activity, reviewed by the supervisory chain of the employer."""

    __tablename__ = "credit_record"
    __table_args__ = (
        # the person's years (summaries, the person's own page, verification details)
        Index("ix_credit_record_person_year", "person_id", "year"),
        # the review list of a subtree, newest first within the range: one ordered index range
        Index("ix_credit_record_org_path", "org_path", "id"),
        # the to-do list: pending records of a subtree (a few percent of the table)
        Index("ix_credit_record_pending", "org_path", "id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        Index("ix_credit_record_programme", "programme_id"),
        Index("ix_credit_record_declarer", "declarer_org_id", "id"),
        # 同一人员、同一活动、同一日期 counts once
        Index("uq_credit_record_activity", "person_id", "activity_key", "completed_on", unique=True,
              postgresql_where=text(ACTIVE_CREDIT), sqlite_where=text(ACTIVE_CREDIT)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), nullable=False)
    #: the person's employer and its path, copied (and moved with the person) so a subtree is one index range
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    org_path: Mapped[str] = mapped_column(PATH_TYPE, nullable=False, default="", server_default="")
    #: the year the hours count for (the year of completion)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_kind: Mapped[SubjectKind] = mapped_column(_enum(SubjectKind, "subject_kind"), nullable=False)
    mode: Mapped[LearningMode] = mapped_column(_enum(LearningMode, "learning_mode"), nullable=False)
    #: an approved training programme the hours come from ...
    programme_id: Mapped[Optional[int]] = mapped_column(ForeignKey("training_programme.id"))
    #: ... or a conversion standard and how many of its units (papers, days...)
    standard_id: Mapped[Optional[int]] = mapped_column(ForeignKey("credit_standard.id"))
    quantity: Mapped[Optional[int]] = mapped_column(Integer)
    #: the activity as shown: the programme's or standard's name, or what the declarer wrote
    activity: Mapped[str] = mapped_column(String(200), nullable=False)
    #: what makes two records "the same activity" (P<programme id>, S<standard id>:<text>, T:<text>)
    activity_key: Mapped[str] = mapped_column(String(120), nullable=False)
    hours: Mapped[int] = mapped_column(Integer, nullable=False)
    completed_on: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    #: the training base that delivered the activity, if any
    provider_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    declarer_type: Mapped[CreditDeclarer] = mapped_column(_enum(CreditDeclarer, "credit_declarer"), nullable=False)
    #: the base or unit that declared (代报); None when the person declared
    declarer_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    channel: Mapped[CreditChannel] = mapped_column(_enum(CreditChannel, "credit_channel"), nullable=False,
                                                   default=CreditChannel.form)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    employer: Mapped[Organisation] = relationship(foreign_keys=[employer_id])
    programme: Mapped[Optional[TrainingProgramme]] = relationship(foreign_keys=[programme_id])
    standard: Mapped[Optional[CreditStandard]] = relationship(foreign_keys=[standard_id])
    provider: Mapped[Optional[Organisation]] = relationship(foreign_keys=[provider_id])
    declarer_org: Mapped[Optional[Organisation]] = relationship(foreign_keys=[declarer_org_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="CreditRecord.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="CreditRecord.reviewed_by_id")

    @classmethod
    def scope_org_id_column(cls):
        return cls.employer_id

    @classmethod
    def scope_path_column(cls):
        return cls.org_path

    def __repr__(self) -> str:
        return f"{self.year} {self.activity}（{self.hours}学时）"


class CreditSummary(Model):
    """One person's year, summed from the raw records in the transaction of every change (never re-summed by pages)."""

    __tablename__ = "credit_summary"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: approved 学时 by subject kind and by mode
    public_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    online_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    offline_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pending_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    approved_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pending_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: pending or approved records by subject kind × mode (who counts as 学习人数 in the statistics)
    public_online_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    public_offline_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_online_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_offline_records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: approved hours meet the rule of the year (credit_requirement)
    qualified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    person: Mapped[Person] = relationship()

    @property
    def total_hours(self) -> int:
        return (self.public_hours or 0) + (self.professional_hours or 0)


class VerificationResult(LabelledEnum):
    """学时审验 outcome as the pages word it (the review status underneath: approved / rejected)."""

    passed = "passed"
    failed = "failed"

    @classmethod
    def _labels(cls):
        return {"passed": _l("Verification passed"), "failed": _l("Verification failed")}


class CreditVerification(Reviewable, Model):
    """学时审验 of one person's year: approved = 审验通过, rejected = 审验不通过; hours and rule kept as decided."""

    __tablename__ = "credit_verification"
    __table_args__ = (
        Index("uq_credit_verification_person_year", "person_id", "year", unique=True),
        Index("ix_credit_verification_year_path", "year", "org_path", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), nullable=False)
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    org_path: Mapped[str] = mapped_column(PATH_TYPE, nullable=False, default="", server_default="")
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    #: approved hours and the rule at the moment of the decision (a later rule change does not rewrite them)
    public_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    professional_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    required_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    required_professional_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    employer: Mapped[Organisation] = relationship(foreign_keys=[employer_id])
    submitted_by: Mapped[Optional[Account]] = relationship(foreign_keys="CreditVerification.submitted_by_id")
    reviewed_by: Mapped[Optional[Account]] = relationship(foreign_keys="CreditVerification.reviewed_by_id")

    @classmethod
    def scope_org_id_column(cls):
        return cls.employer_id

    @classmethod
    def scope_path_column(cls):
        return cls.org_path

    @property
    def total_hours(self) -> int:
        return (self.public_hours or 0) + (self.professional_hours or 0)


class ApiBatch(Model):
    """A REST import's ``Idempotency-Key`` and the answer it got: a retry with the same key gets it again."""

    __tablename__ = "api_batch"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key", name="uq_api_batch_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(100), nullable=False)
    #: SHA-256 of the request body: the same key with another body is refused
    request_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    response: Mapped[str] = mapped_column(Text, nullable=False)
    created_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now, nullable=False)


# --------------------------------------------------------------------------
# Certificates (电子证书): one per person and year verified 审验通过
# --------------------------------------------------------------------------


class Certificate(Model):
    """电子证书 of one person's year, written at first issue; its number is stable and signed.

    The number is derived from (year, person id) and an HMAC of the app's SECRET_KEY (app/services/
    certificates.py), so printing again gives the same number. Whether it is valid is not stored: the
    year's verification must still be approved (a verification reversed later revokes the certificate).
    """

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("person_id", "year", name="uq_certificate_person_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    issued_on: Mapped[datetime.datetime] = mapped_column(DateTime, default=_now, nullable=False)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])

    def __repr__(self) -> str:
        return self.number
