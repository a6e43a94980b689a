"""A review kind is declared once, here: its table, its reviewing sides, its effects, its labels and area.

Everything else follows from the declaration (``app/admin/reviews.py`` builds the list page, its menu
entry, the REST endpoints and the to-do entry; ``app/roles.py`` grants the area to the reviewing role
templates; the audit log reads the labels). Declarations live in ``app/workflow/declarations/``, one
module per area of the manual; ``load()`` imports them all.

Adding a kind (see ``docs/review-kinds.md``): a model carrying the ``Reviewable`` columns and its
migration, one ``declare(Kind(...))``, optionally a detail template, and the translations.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, true

from app.models import OrganisationType
from app.roles import PROVINCE, SUPERVISORY
from app.scope import Scope, subtree_org_ids

#: organisations whose admins review by default: the province and the supervisory departments
SUPERVISORS = frozenset({OrganisationType.province, OrganisationType.supervisory})


@dataclass(frozen=True)
class Side:
    """One reviewing side: which organisation's admins (or admins above it) decide for it."""

    #: short name used in the audit comment and tests, e.g. "chain", "source", "target", "receiver"
    name: str
    #: column of the item holding the side's organisation
    org_column: str
    #: the organisation itself may not decide, only those above it (a unit never approves itself)
    strictly_above: bool = True
    #: for kinds needing several sides: the column recording who approved this side
    approved_by_column: Optional[str] = None
    #: how the side reads on the page, e.g. 原上级部门
    label: Any = None

    def condition(self, model, scope: Scope):
        """SQL: the viewer's scope covers this side of the item."""
        if scope.is_all:
            return true()
        if scope.is_none:
            return false()
        column = getattr(model, self.org_column)
        covered = column.in_(subtree_org_ids(scope))
        return and_(covered, column != scope.org_id) if self.strictly_above else covered

    def covers(self, org_id: Optional[int], scope: Scope, scope_org_ids: Optional[set]) -> bool:
        """The same test in Python, for rows already loaded (``scope_org_ids``: None means all)."""
        if scope.is_all:
            return True
        if org_id is None or scope.is_none or org_id not in scope_org_ids:
            return False
        return not (self.strictly_above and org_id == scope.org_id)


def supervisory_chain(org_column: str = "org_id") -> Side:
    """The default side: admins of departments strictly above the item's organisation."""
    return Side("chain", org_column, strictly_above=True)


@dataclass(frozen=True)
class Menu:
    """Where the kind's review list appears: a navigation category key, a menu name, an icon."""

    category: str
    name: str
    icon: str = "fa-check-square-o"


@dataclass(frozen=True)
class Kind:
    """Everything the product needs to know about one kind of reviewed submission."""

    #: URL and API name, e.g. "person_registration"
    key: str
    #: the table carrying the reviewable columns (``Reviewable``)
    model: type
    #: title of the review list and of the to-do entry, e.g. 专技人员注册审核
    label: Any
    #: permission area: can_read shows the list, can_write decides
    area: str
    menu: Menu
    #: who decides; with several sides each must approve (by different admins), any may reject
    sides: tuple = (supervisory_chain(),)
    #: column with the organisation the item belongs to (scope of the list, path of its audit rows)
    org_column: str = "org_id"
    #: for a table shared by several kinds: (column name, value) selecting this kind's rows
    discriminator: Optional[tuple] = None
    #: Decision -> effect(ids, actor, now), run in the decision's transaction, set-based where possible
    effects: Mapping = field(default_factory=dict)
    #: SQL expression (correlated to the model) of the account the item is about, for separation of duties
    subject_account: Optional[Callable[[], Any]] = None
    #: organisation types whose admins may review
    reviewer_org_types: frozenset = SUPERVISORS
    #: role templates (app/roles.py) given can_write on the area
    reviewer_templates: tuple = (PROVINCE, SUPERVISORY)
    #: list page configuration
    list_columns: Sequence[str] = ()
    show_columns: Sequence[str] = ()
    search_columns: Sequence[str] = ()
    order_columns: Sequence[str] = ()
    label_columns: Mapping = field(default_factory=dict)
    base_order: tuple = ("submitted_on", "desc")
    #: item -> list of (title, rows) sections shown on the detail page (submitted data, changes...)
    detail: Optional[Callable[[Any], list]] = None
    #: a detail template extending ``review/show.html`` (e.g. a decision that asks for more than yes/no)
    show_template: Optional[str] = None
    #: how the approve decision reads where 审核通过 is not the word (人员调转: 确认调转)
    approve_label: Any = None
    #: columns naming "one pending per ...": a new submission with the same values is refused
    one_pending_per: tuple = ()
    #: how the item is named in lists of affected items (reject page, audit)
    describe: Callable[[Any], str] = str
    #: audit object type of the item's transitions and its label in the audit log
    audit_object_type: Optional[str] = None
    audit_label: Any = None
    #: the groups of files an item carries: (suffix, label); the submission form offers one input per
    #: group and the detail page lists each (年度工作材料: 学习指南 and 工作通知); () for none
    files: tuple = (("", _l("Attachments")),)
    #: a mixin class (or a function returning it, to import the admin layer late) placed before the
    #: generated review view: extra routes or list behaviour of one kind
    view_mixin: Optional[Any] = None

    @property
    def object_type(self) -> str:
        return self.audit_object_type or self.model.__tablename__

    def file_owner_kind(self, suffix: str = "") -> str:
        """The attachments' owner kind of one file group: the item's type, with the group's suffix."""
        return f"{self.object_type}:{suffix}" if suffix else self.object_type

    def file_groups(self) -> list[tuple[str, str, Any]]:
        """(owner kind, form field name, label) of each file group."""
        return [(self.file_owner_kind(suffix), f"files_{suffix}" if suffix else "files", label)
                for suffix, label in self.files]

    @property
    def two_sided(self) -> bool:
        return len(self.sides) > 1

    @property
    def list_endpoint(self) -> str:
        return f"{self.view_name}.list"

    @property
    def view_name(self) -> str:
        return "".join(part.title() for part in self.key.split("_")) + "ReviewView"

    # ------------------------------------------------------------------ SQL
    def own_rows(self):
        """SQL: the rows of this kind in its table."""
        if self.discriminator is None:
            return true()
        column, value = self.discriminator
        return getattr(self.model, column) == value

    def visible(self, scope: Scope):
        """SQL: items the viewer reviews on some side (what the review list shows)."""
        return and_(self.own_rows(), or_(*(side.condition(self.model, scope) for side in self.sides)))

    def not_own(self, actor_id: Optional[int]):
        """SQL: the item was not submitted by the actor and is not about the actor."""
        model = self.model
        conditions = [or_(model.submitted_by_id.is_(None), model.submitted_by_id != actor_id)]
        if self.subject_account is not None:
            subject = self.subject_account()
            conditions.append(or_(subject.is_(None), subject != actor_id))
        return and_(*conditions)

    def decidable(self, scope: Scope, actor_id: Optional[int]):
        """SQL: pending items this actor may still decide (the to-do count, the buttons)."""
        from app.models import ReviewStatus

        model = self.model
        if not self.two_sided:
            side_open = self.sides[0].condition(model, scope)
        else:
            filled_by_me = or_(*(and_(getattr(model, s.approved_by_column).isnot(None),
                                      getattr(model, s.approved_by_column) == actor_id) for s in self.sides))
            side_open = and_(
                ~filled_by_me,
                or_(*(and_(s.condition(model, scope), getattr(model, s.approved_by_column).is_(None))
                      for s in self.sides)),
            )
        return and_(self.own_rows(), model.status == ReviewStatus.pending, side_open, self.not_own(actor_id))


#: every declared kind by key, in declaration order
KINDS: dict[str, Kind] = {}


def declare(kind: Kind) -> Kind:
    """Register a kind (declaration modules call this at import)."""
    if not kind.list_columns:
        raise ValueError(f"review kind {kind.key} declares no list columns")
    KINDS[kind.key] = kind
    return kind


def kind_for(key) -> Kind:
    """The kind named by a key (a string or an enum whose value is the key); KeyError if unknown."""
    if isinstance(key, Kind):
        return key
    load()
    key = getattr(key, "value", key)
    if not isinstance(key, str):
        raise KeyError(key)
    return KINDS[key]


_loaded = False


def load() -> dict[str, Kind]:
    """Import every declaration module once (app/workflow/declarations/*)."""
    global _loaded
    if not _loaded:
        from app.workflow import declarations

        for module in sorted(m.name for m in pkgutil.iter_modules(declarations.__path__)):
            importlib.import_module(f"{declarations.__name__}.{module}")
        _loaded = True
    return KINDS
