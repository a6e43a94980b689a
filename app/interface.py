"""SQLAInterface that loads list relations eagerly, so a list page costs a fixed number of queries."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.orm import selectinload


class EagerInterface(SQLAInterface):
    """Each view owns one; the view tells it which relations its list shows."""

    def __init__(self, obj, session=None):
        super().__init__(obj, session=session)
        self.list_relations: list[str] = []

    def set_list_columns(self, columns: list[str]) -> None:
        names = []
        for col in columns:
            root = col.split(".")[0]
            if self.is_relation(root) and root not in names:
                names.append(root)
        self.list_relations = names

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
        query = self.apply_all(
            query, filters, order_column, order_direction, page, page_size, select_columns
        )
        options = [selectinload(getattr(self.obj, name)) for name in self.list_relations]
        return count, query.options(*options).all()
