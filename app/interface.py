"""The data interface every scoped view uses: eager list relations, capped counts, index-friendly filters."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import (
    FilterStartsWith,
    SQLAFilterConverter,
    get_field_setup_query,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.errors import Conflict
from app.services.transaction import transaction

#: a list counts at most this many rows; beyond it the pager shows "10000+" (deeper pages still work)
COUNT_CAP = 10_000
#: a search result counts at most this many (a search is for finding, not for paging through)
SEARCH_COUNT_CAP = 1_000
#: largest value an integer primary key can hold (PostgreSQL integer); anything else is not a row
MAX_ID = 2**31 - 1


def parse_id(value) -> Optional[int]:
    """A primary key from a URL or form: a positive integer that fits the column, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not text.isdigit() or len(text) > 10:
            return None
        number = int(text)
    return number if 0 < number <= MAX_ID else None


def _searching() -> bool:
    from flask import has_request_context, request

    return has_request_context() and any(key.startswith("_flt_") for key in request.args)


class CappedCount(int):
    """A row count that stopped at the cap: pages still work, the page shows it as 'N+'."""

    def __str__(self) -> str:
        return f"{int(self) - 1}+"


class FilterStartsWithCase(FilterStartsWith):
    """Names and ID numbers have no case: LIKE lets the prefix index serve the search (ILIKE cannot)."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.startswith(value, autoescape=True))


def check_filter_value(datamodel, column: str, value) -> None:
    """A search value must fit its column: one of an enumeration's values, an id a row can have, a number
    the column holds. Anything else is refused with a message (never sent to the database)."""
    from flask_babel import gettext

    from app.errors import InvalidInput

    if datamodel.is_relation(column):
        ok = value in (None, "", "__None") or parse_id(value) is not None
    elif datamodel.is_enum(column):
        enum_class = datamodel.list_columns[column].type.enum_class
        ok = value in (None, "") or str(value) in {m.value for m in enum_class}
    elif datamodel.is_integer(column):
        text = str(value).strip().lstrip("-")
        ok = value in (None, "") or (text.isdigit() and len(text) <= 9)
    else:
        ok = len(str(value or "")) <= 1000
    if not ok:
        raise InvalidInput(gettext("A search value is not valid; please check the search conditions"))


def _checked(filter_class):
    """The same filter, with the value checked against its column first."""

    def apply(self, query, value):
        check_filter_value(self.datamodel, self.column_name, value)
        return filter_class.apply(self, query, value)

    return type(filter_class.__name__, (filter_class,), {"apply": apply, "__doc__": filter_class.__doc__})


class AppFilterConverter(SQLAFilterConverter):
    conversion_table = tuple(
        (test, [_checked(FilterStartsWithCase if f is FilterStartsWith else f) for f in filters])
        for test, filters in SQLAFilterConverter.conversion_table
    )


class BoundedFilters(Filters):
    """A filter position the column does not offer (``_flt_9_status``) is a bad request, never an IndexError."""

    def add_filter_index(self, column_name, filter_instance_index, value):
        filters = self._all_filters.get(column_name)
        if filters is None:
            return
        if not 0 <= filter_instance_index < len(filters):
            from flask import abort

            abort(400)
        super().add_filter_index(column_name, filter_instance_index, value)


class EagerInterface(SQLAInterface):
    """Each view owns one; the view tells it which relations its list shows."""

    filter_converter_class = AppFilterConverter

    def __init__(self, obj, session=None):
        super().__init__(obj, session=session)
        self.list_relations: list[str] = []
        #: called with each new row after its INSERT, inside the same transaction (the view audits it)
        self.on_created = None

    def get_filters(self, search_columns=None, search_filters=None):
        filters = BoundedFilters(self.filter_converter_class, self, search_columns=search_columns or [])
        # a view's own filters of a column replace the generic ones (e.g. a person by name prefix, not by id)
        for column, own in (search_filters or {}).items():
            instances = [f(column, self) if isinstance(f, type) else f for f in own]
            filters._search_filters = {**filters._search_filters, column: instances}
            filters._all_filters = {**filters._all_filters, column: instances}
        return filters

    # ----- writes: one transaction each; nested in the caller's when there is one ----------
    def add(self, item, commit: bool = True) -> None:
        with self._writing():
            self.session.add(item)
            self.session.flush()
            if self.on_created is not None:
                self.on_created(item)

    def edit(self, item, commit: bool = True) -> None:
        with self._writing():
            self.session.merge(item)
            self.session.flush()

    def delete(self, item, commit: bool = True) -> None:
        with self._writing():
            self.session.delete(item)
            self.session.flush()

    def _writing(self):
        from contextlib import contextmanager

        @contextmanager
        def block():
            try:
                with transaction():
                    yield
            except IntegrityError as exc:
                raise Conflict(_conflict_message()) from exc

        return block()

    def get(self, id, filters=None, select_columns=None, outer_default_load: bool = False):
        """A row by primary key; a key that is not a valid id finds nothing (404), never an error."""
        pk = parse_id(id)
        if pk is None:
            return None
        return super().get(pk, filters, select_columns, outer_default_load)

    def set_list_columns(self, columns: list[str]) -> None:
        names = []
        for col in columns:
            root = col.split(".")[0]
            if self.is_relation(root) and root not in names:
                names.append(root)
        self.list_relations = names

    def query_count(self, query, filters=None, select_columns=None) -> int:
        """Exact up to a cap, so a count never scans a million rows."""
        cap = SEARCH_COUNT_CAP if _searching() else COUNT_CAP
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        limited = inner.with_entities(self.obj.id).order_by(None).limit(cap + 1).subquery()
        count = self.session.scalar(select(func.count()).select_from(limited))
        return CappedCount(count) if count > cap else count

    def _load_options(self):
        """Many-to-one relations join into the page query; collections load in one more query each."""
        options = []
        for name in self.list_relations:
            attribute = getattr(self.obj, name)
            if self.is_relation_many_to_one(name):
                options.append(joinedload(attribute))
            else:
                options.append(selectinload(attribute))
        return options

    def query(
        self,
        filters=None,
        order_column: str = "",
        order_direction: str = "",
        page: Optional[int] = None,
        page_size: Optional[int] = None,
        select_columns=None,
        outer_default_load: bool = False,
    ):
        if select_columns or not self.list_relations:
            # the REST path selects (and joins) exactly its dotted columns already
            return super().query(filters, order_column, order_direction, page, page_size,
                                 select_columns, outer_default_load)
        query = self.session.query(self.obj)
        count = self.query_count(query, filters, select_columns)
        # pick the page's ids first, then load those rows with their relations: joins are not
        # computed for the rows an OFFSET skips
        page_query = self.apply_all(query, filters, order_column, order_direction, page, page_size)
        ids = [row[0] for row in page_query.with_entities(self.obj.id)]
        if not ids:
            return count, []
        rows = (self.session.query(self.obj).options(*self._load_options())
                .filter(self.obj.id.in_(ids)).all())
        by_id = {row.id: row for row in rows}
        return count, [by_id[i] for i in ids if i in by_id]


def _conflict_message() -> str:
    from flask_babel import gettext

    return gettext("This record conflicts with existing data (for example a duplicate); nothing was changed")
