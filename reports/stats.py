"""Durations and their distribution (count, mean, median, p90), computed by the database in one query.

PostgreSQL has the ordered-set aggregate ``percentile_cont``. SQLite has none, so there the same
continuous percentile (linear interpolation between the two nearest ranks, exactly what
``percentile_cont`` returns) is computed with window functions: each row's rank and its group's size,
then one grouped sum that picks and weighs the two rows either side of ``p × (n − 1)``.
"""

from typing import Any

from django.db import connections
from django.db.models import Case, FloatField, Func, IntegerField, Q, QuerySet, Value, When

PERCENTILES = (("median", 0.5), ("p90", 0.9))


class Seconds(Func):
    """``end − start`` in seconds, as a float, on PostgreSQL and on SQLite."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None, template: str | None = None,
               arg_joiner: str | None = None, **extra_context: Any) -> Any:  # PostgreSQL
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::double precision", [*end_params, *start_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        # julianday() reads Django's stored text ("YYYY-MM-DD HH:MM:SS[.ffffff]"); days × 86400 = seconds.
        return f"((julianday({end}) - julianday({start})) * 86400.0)", [*end_params, *start_params]


def one_if(condition: Q) -> Case:
    """1 where ``condition`` holds, else 0: summed, how many rows it holds for."""
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _postgresql(inner: str) -> str:
    cuts = ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY x)" for _name, p in PERCENTILES)
    return f"SELECT g, COUNT(x), AVG(x), {cuts} FROM ({inner}) s WHERE x IS NOT NULL GROUP BY g"


def _window(inner: str) -> str:
    picks = []
    for _name, p in PERCENTILES:
        low = f"CAST({p} * (n - 1) AS INTEGER)"
        frac = f"({p} * (n - 1) - {low})"
        picks.append(f"SUM(CASE WHEN rn = {low} THEN x * (1 - {frac}) WHEN rn = {low} + 1 THEN x * {frac} "
                     f"ELSE 0 END)")
    ranked = (f"SELECT g, x, ROW_NUMBER() OVER (PARTITION BY g ORDER BY x) - 1 AS rn, "
              f"COUNT(*) OVER (PARTITION BY g) AS n FROM ({inner}) s WHERE x IS NOT NULL")
    return f"SELECT g, COUNT(x), AVG(x), {', '.join(picks)} FROM ({ranked}) w GROUP BY g"


def _figure(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def empty_distribution() -> dict[str, Any]:
    return {"count": 0, "mean": None, "median": None, "p90": None}


def distribution(rows: QuerySet) -> dict[Any, dict[str, Any]]:
    """{group: {count, mean, median, p90}} of ``rows``, a ``.values(g=..., x=...)`` queryset (x in seconds).

    Rows whose ``x`` is NULL (nothing to measure yet) are left out. One query.
    """
    connection = connections[rows.db]
    inner, params = rows.order_by().query.get_compiler(connection=connection).as_sql()
    sql = _postgresql(inner) if connection.vendor == "postgresql" else _window(inner)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return {group: _figures(rest) for group, *rest in found}


def distributions(rows: QuerySet, names: list[str]) -> dict[str, dict[str, Any]]:
    """{name: {count, mean, median, p90}} of several measures of the same rows, ``.values(**{name: seconds})``
    (or a union of such querysets: the first one names the columns).

    One query on both databases: PostgreSQL reads the rows once for all of them; SQLite ranks each measure
    on its own, the measures stacked (``UNION ALL``) and grouped by name.
    """
    connection = connections[rows.db]
    inner, params = rows.order_by().query.get_compiler(connection=connection).as_sql()
    if connection.vendor != "postgresql":
        stacked = " UNION ALL ".join(f"SELECT '{name}' AS g, \"{name}\" AS x FROM ({inner}) s{index}"
                                     for index, name in enumerate(names))
        with connection.cursor() as cursor:
            cursor.execute(_window(stacked), list(params) * len(names))
            found = {group: rest for group, *rest in cursor.fetchall()}
        return {name: _figures(found[name]) if name in found else empty_distribution() for name in names}
    columns = []
    for name in names:
        columns += [f'COUNT("{name}")', f'AVG("{name}")']
        columns += [f'percentile_cont({p}) WITHIN GROUP (ORDER BY "{name}")' for _label, p in PERCENTILES]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM ({inner}) s", params)
        row = cursor.fetchone()
    width = 2 + len(PERCENTILES)
    return {name: _figures(row[index * width:(index + 1) * width]) for index, name in enumerate(names)}


def _figures(row: Any) -> dict[str, Any]:
    count, mean, *cuts = row
    figures = {"count": count, "mean": _figure(mean)}
    figures.update({label: _figure(cut) for (label, _p), cut in zip(PERCENTILES, cuts, strict=True)})
    return figures


def counts_of(**querysets: QuerySet) -> dict[str, int]:
    """{name: how many rows} of each queryset, in one query (a scalar subquery each)."""
    if not querysets:
        return {}
    first = next(iter(querysets.values()))
    connection = connections[first.db]
    parts, params = [], []
    for qs in querysets.values():
        sql, more = qs.order_by().values("pk").query.get_compiler(connection=connection).as_sql()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) c)")
        params += list(more)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))
