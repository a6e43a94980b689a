"""What generic add / edit / delete may do, on pages and over REST alike (issue 8: mass assignment).

Two mechanisms, so that a new view or API cannot reopen the hole by forgetting something:

1. **Writable fields are an explicit allow-list.** Every ModelView and ModelRestApi that can add or edit
   declares ``add_columns``/``edit_columns``; none of them may contain a *protected* column (status,
   path, super admin, roles, credentials...: they change only through their own audited operation or a
   review decision), and ``edit_columns`` may not contain a *placement* column (the organisation a row
   belongs to, an organisation's parent or type: moving is a reviewed decision, e.g. 更换上级部门).
   ``writable_column_violations`` says what a view breaks; a test walks every registered view and API.
2. **The write itself is checked.** ``ScopedModelView`` and ``ScopedModelRestApi`` call
   ``check_update(item)`` before every generic update: a change to a protected or placement attribute
   is refused whatever put it there. Then the model's rules (``RULES``) run, the same for the page and the
   API: e.g. an organisation is deleted only when empty and never by itself.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect

from app.errors import NotAllowed

#: written only by their own operation (a review decision, 禁用/启用, 设为超级管理员, 分配角色, a password
#: change...), never by a generic form or REST body
PROTECTED_COLUMNS = frozenset({
    "id", "status", "path", "depth", "org_path",
    "is_super_admin", "roles", "active", "user_type",
    "password", "must_change_password", "credential_version", "locked_until", "fail_login_count",
    "login_count", "last_login", "created_on", "changed_on", "created_by", "changed_by",
    "created_by_fk", "changed_by_fk",
    "account", "account_id",
    "kind", "subject_id", "submitted_by", "submitted_by_id", "submitted_on", "reviewed_by", "reviewed_by_id",
    "reviewed_on", "reject_reason", "source_approved_by_id", "target_approved_by_id",
    "evidence_file",
})

#: where a row sits in the tree: chosen when it is added (and checked against the scope), never moved
#: by an edit
PLACEMENT_COLUMNS = frozenset({
    "parent", "parent_id", "type", "employer", "employer_id", "organisation", "organisation_id",
    "org_id", "target_org_id", "target_organisation", "id_number", "username",
})


def _columns(names) -> set[str]:
    """Column names of a list that may hold dotted REST names ("parent.id")."""
    return {str(name).split(".")[0] for name in (names or [])}


def writable_column_violations(view: Any) -> list[str]:
    """What a registered ModelView / ModelRestApi lets a generic form or body write that it must not."""
    problems = []
    add = _columns(getattr(view, "add_columns", None))
    edit = _columns(getattr(view, "edit_columns", None))
    for schema_name, target in (("add_model_schema", add), ("edit_model_schema", edit)):
        schema = getattr(view, schema_name, None)
        if schema is not None:
            target |= _columns(getattr(schema, "fields", {}).keys())
    name = type(view).__name__
    for column in sorted(add & PROTECTED_COLUMNS):
        problems.append(f"{name}: add column {column!r} is protected")
    for column in sorted(edit & (PROTECTED_COLUMNS | PLACEMENT_COLUMNS)):
        problems.append(f"{name}: edit column {column!r} is protected or moves the row")
    return problems


def changed_protected_attributes(item: Any) -> list[str]:
    """Protected or placement attributes of a loaded row that have unflushed changes."""
    state = sa_inspect(item)
    changed = []
    for attr in state.mapper.attrs:
        if attr.key not in PROTECTED_COLUMNS and attr.key not in PLACEMENT_COLUMNS:
            continue
        history = state.attrs[attr.key].history
        if history.added or history.deleted:
            changed.append(attr.key)
    return changed


def check_update(item: Any) -> None:
    """Refuse a generic update that touches what only its own operation may change."""
    if sa_inspect(item).persistent and changed_protected_attributes(item):
        raise NotAllowed(_("These fields can only be changed through their own operation or a review "
                           "decision; nothing was changed"))


# ---------------------------------------------------------------------------- per-model rules
class ModelRules:
    """Checks and preparation one model needs on every generic write, from a page or the API."""

    def before_add(self, actor, item) -> None:
        pass

    def before_update(self, actor, item) -> None:
        pass

    def before_delete(self, actor, item) -> None:
        pass


class OrganisationRules(ModelRules):
    def before_add(self, actor, item) -> None:
        from app.services import organisations

        organisations.prepare_new_organisation(item)

    def before_update(self, actor, item) -> None:
        from app.services import organisations

        organisations.validate_update(actor, item)

    def before_delete(self, actor, item) -> None:
        from app.services import organisations

        organisations.ensure_deletable(item, actor)


class InternalDepartmentRules(ModelRules):
    def before_delete(self, actor, item) -> None:
        from app.services import organisations

        organisations.ensure_department_empty(item)


class PersonRules(ModelRules):
    def before_add(self, actor, item) -> None:
        from app.services import persons

        persons.prepare_new_person(item)

    def before_update(self, actor, item) -> None:
        from app.services import persons

        persons.validate_person(item)

    def before_delete(self, actor, item) -> None:
        from app.services import persons

        persons.ensure_deletable(item)


_RULES: dict[type, ModelRules] = {}
_DEFAULT = ModelRules()


def rules_for(model: type) -> ModelRules:
    if not _RULES:
        from app.models import InternalDepartment, Organisation, Person

        _RULES.update({Organisation: OrganisationRules(), InternalDepartment: InternalDepartmentRules(),
                       Person: PersonRules()})
    for cls in model.__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return _DEFAULT


def run(hook: str, actor, item) -> None:
    rule: Optional[Callable] = getattr(rules_for(type(item)), hook)
    rule(actor, item)
