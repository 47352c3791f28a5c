"""Durations and their distribution (count, mean, median, p90), computed by the database in one query.

PostgreSQL has the ordered-set aggregate ``percentile_cont``. SQLite has none, so there the same
continuous percentile (linear interpolation between the two nearest ranks, exactly what
``percentile_cont`` returns) is computed with window functions: each row's rank and its group's size,
then one grouped sum that picks and weighs the two rows either side of ``p × (n − 1)``.
"""

from typing import Any

from django.db import connections
from django.db.models import F, FloatField, Func, QuerySet, Value

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
    result = {}
    for group, count, mean, *cuts in found:
        figures = {"count": count, "mean": _figure(mean)}
        figures.update({name: _figure(cut) for (name, _p), cut in zip(PERCENTILES, cuts, strict=True)})
        result[group] = figures
    return result


def distributions(rows: QuerySet, names: list[str]) -> dict[str, dict[str, Any]]:
    """{name: {count, mean, median, p90}} of several measures of the same rows, ``.values(**{name: seconds})``.

    PostgreSQL reads the rows once for all of them (one query); SQLite ranks each measure on its own (one
    query per measure, still a fixed number).
    """
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return {name: distribution(rows.values(g=Value(""), x=F(name))).get("", empty_distribution())
                for name in names}
    inner, params = rows.order_by().query.get_compiler(connection=connection).as_sql()
    columns = []
    for name in names:
        columns += [f'COUNT("{name}")', f'AVG("{name}")']
        columns += [f'percentile_cont({p}) WITHIN GROUP (ORDER BY "{name}")' for _label, p in PERCENTILES]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM ({inner}) s", params)
        found = cursor.fetchone()
    width = 2 + len(PERCENTILES)
    result = {}
    for index, name in enumerate(names):
        count, mean, *cuts = found[index * width:(index + 1) * width]
        figures = {"count": count, "mean": _figure(mean)}
        figures.update({label: _figure(cut) for (label, _p), cut in zip(PERCENTILES, cuts, strict=True)})
        result[name] = figures
    return result
