"""Several single values from the database in one round trip (the fingerprints live pages poll with)."""

from typing import Any

from django.db import connection
from django.db.models import Manager, QuerySet, Value


def aggregate_of(queryset: QuerySet[Any] | Manager[Any], expression: Any) -> QuerySet[Any]:
    """A one-row queryset: ``expression`` over the whole queryset (grouped by a constant, which the ORM drops)."""
    return queryset.order_by().annotate(_all=Value(1)).values("_all").annotate(value=expression).values("value")


def scalars(*querysets: QuerySet[Any]) -> tuple[Any, ...]:
    """The values of single-value querysets in one query.

    Each part's SQL is the ORM's own for the database in use (SQLite or
    PostgreSQL), so nothing here is dialect SQL. dashboard/selectors.py has the
    same pair, from before this module.
    """
    compiled = [queryset.query.sql_with_params() for queryset in querysets]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({sql})" for sql, _params in compiled),
                       [param for _sql, params in compiled for param in params])
        row = cursor.fetchone()
    return tuple(row) if row else ()
