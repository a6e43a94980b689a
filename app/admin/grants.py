"""The permission picker of 角色管理: the actor's own permissions, grouped as the menu groups them,
one row per screen with 查看 and 维护 (or 审核) ticks instead of the raw permission list."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from flask import g, render_template
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import Field
from wtforms.validators import StopValidation

from app.navigation import placement, tree_kind
from app.roles import area_label, area_menus, level_label
from app.services import custom_roles as service


@dataclass
class AreaRow:
    label: str
    #: level -> the grant offered at that level ("read", "write"), or absent
    grants: dict = field(default_factory=dict)


@dataclass
class PickerGroup:
    module: str
    group: Optional[str]
    rows: list = field(default_factory=list)


def grouped_grants(grants: list, kind: Optional[str]) -> list[PickerGroup]:
    """Grants by module and sub-module in the order of the viewer's menu; the rest under 其他."""
    where = placement(kind or "supervisory")
    order = {name: index for index, name in enumerate(where)}
    rows: dict[str, AreaRow] = {}
    spot: dict[str, tuple] = {}
    for grant in grants:
        row = rows.setdefault(grant.area, AreaRow(area_label(grant.area)))
        row.grants[grant.level] = grant
        if grant.area not in spot:
            placed = [name for name in area_menus().get(grant.area, [])[1:] if name in where]
            if placed:
                module, group, label = where[placed[0]]
                if len(placed) == 1:  # one screen: its menu words; several (the review lists): the area's
                    row.label = label
                spot[grant.area] = (order[placed[0]], module, group)
            else:
                spot[grant.area] = (len(order), str(_l("Other")), None)
    groups: list[PickerGroup] = []
    for area in sorted(rows, key=lambda a: (spot[a][0], rows[a].label)):
        _index, module, group = spot[area]
        if not groups or (groups[-1].module, groups[-1].group) != (module, group):
            groups.append(PickerGroup(module, group))
        groups[-1].rows.append(rows[area])
    return groups


def describe_grants(permission_ids, grants) -> list[str]:
    """'专技人员档案：维护' per area a role covers, the highest level only, in menu order."""
    tokens = service.grants_of(permission_ids, grants)
    lines = []
    for group in grouped_grants(grants, tree_kind(g.get("user"))):
        for row in group.rows:
            for level in ("write", "read"):
                grant = row.grants.get(level)
                if grant is not None and grant.token in tokens:
                    lines.append(f"{row.label}：{level_label(grant.area, level)}")
                    break
    return lines


class GrantsWidget:
    """Ticks grouped by module; ticking 维护 ticks 查看 too (app/static/js/grants.js)."""

    def __call__(self, field, **kwargs):
        return Markup(render_template(
            "custom_roles/grants_widget.html", field=field, groups=field.groups(),
            chosen=set(field.data or []), level_label=level_label))


class GrantsField(Field):
    """Chosen grant tokens ("Person:read"); only grants the acting admin holds are offered."""

    widget = GrantsWidget()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self._offered: Optional[list] = None

    def offered(self) -> list:
        if self._offered is None:
            self._offered = service.offered_grants(g.user.id)
        return self._offered

    def groups(self) -> list[PickerGroup]:
        return grouped_grants(self.offered(), tree_kind(g.user))

    def process_formdata(self, valuelist):
        self.data = [str(v) for v in valuelist]

    def process_data(self, value):
        self.data = list(value) if value else []

    def pre_validate(self, form):
        offered = {grant.token for grant in self.offered()}
        if any(token not in offered for token in self.data or []):
            raise StopValidation(str(_l("Not a valid choice")))
        if not self.data:
            raise StopValidation(str(_l("Choose at least one permission")))
