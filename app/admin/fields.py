"""Form fields shared by views."""
from __future__ import annotations

import time

from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import SelectField
from wtforms.fields.choices import Choice
from wtforms.validators import ValidationError


class StrictQuerySelectMultipleField(QuerySelectMultipleField):
    """FAB's multiple select, but an id that was not offered is an error rather than dropped.

    FAB 5.3 checks for unknown ids before it has read the submitted ids, so a tampered id is
    silently left out and the rest saved; here the submitted ids are read first.
    """

    def pre_validate(self, form):
        self.data  # noqa: B018 - resolves the submitted ids and notes any that were not offered
        super().pre_validate(form)

    def iter_choices(self):
        """FAB yields plain tuples, which WTForms 3.3 deprecates: yield its Choice objects."""
        for choice in super().iter_choices():
            yield choice if isinstance(choice, Choice) else Choice(*choice, *([{}] * (4 - len(choice))))


# ---------------------------------------------------------------- small reference tables, cached
#: seconds a reference table's (id, name) list is reused before it is read again
REFERENCE_TTL = 300
#: tables whose changes bump the shared "reference" generation (every host reads them again)
REFERENCE_TABLES = {"title_series", "title_level"}
_reference_cache: dict = {}


def reference_choices(model) -> list[tuple[str, str]]:
    """(id, name) of a small reference table, read at most every REFERENCE_TTL seconds per process, and
    again on every host as soon as a change to a reference table commits anywhere."""
    from sqlalchemy import select

    from app.extensions import db
    from app.shared import generation

    key = (model, generation("reference"))
    cached = _reference_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    order = getattr(model, "sort_order", model.id)
    rows = db.session.execute(select(model.id, model.name).order_by(order)).all()
    choices = [(str(pk), name) for pk, name in rows]
    if len(_reference_cache) > 64:
        _reference_cache.clear()
    _reference_cache[key] = (time.monotonic() + REFERENCE_TTL, choices)
    return choices


class ReferenceSelectField(SelectField):
    """A relation to a reference table (title series, levels): rendering it costs no query."""

    widget = Select2Widget()

    def __init__(self, label=None, validators=None, model=None, allow_blank=True, **kwargs):
        super().__init__(label, validators, choices=None, **kwargs)
        self.model = model
        self.allow_blank = allow_blank
        self._raw = None

    def _selected_id(self) -> str:
        return str(getattr(self.data, "id", self.data)) if self.data is not None else ""

    def iter_choices(self):
        selected = self._selected_id()
        if self.allow_blank:
            yield Choice("", "—", selected == "", {})
        for pk, name in reference_choices(self.model):
            yield Choice(pk, name, pk == selected, {})

    def has_groups(self):
        return False

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        from app.extensions import db

        self._raw = valuelist[0] if valuelist else ""
        self.data = None
        if self._raw not in ("", "__None"):
            from app.interface import parse_id

            pk = parse_id(self._raw)
            self.data = db.session.get(self.model, pk) if pk is not None else None

    def pre_validate(self, form):
        if self._raw not in (None, "", "__None") and self.data is None:
            raise ValidationError(self.gettext("Not a valid choice."))
