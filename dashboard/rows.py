"""The dashboard's incident rows as HTML, written out in Python.

Through the template engine, 500 rows were ~100,000 variable look-ups and
most of a render; here a row is one f-string. The markup is the one the
fragment had (``templates/dashboard/_fragment.html`` prints these strings),
every text goes through ``escape``.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.icons import icon_svg

NOTHING = '<span class="muted">—</span>'


def group_rows_html(group, drill_label, nobody_label):
    """The ``<tr>`` of every row of a level group, as one safe string."""
    badge = f'<span class="level-badge small" style="background: {escape(group.color)}">{escape(group.name)}</span>'
    drill = f'\n          <span class="drill">{escape(drill_label)}</span>'
    nobody = f'<span class="muted">{escape(nobody_label)}</span>'
    level = escape(group.key)
    return mark_safe("".join(_row_html(row, level, badge, drill, nobody) for row in group.rows))


def _row_class(row):
    # A drill's row is striped like its banner (static/fenghuo/app.css): nobody reads it as a real outage.
    classes = " ".join(name for name, on in (("has-missed", row.missed), ("drill-row", row.is_drill)) if on)
    return f' class="{classes}">' if classes else ">"


def _row_html(row, level, badge, drill, nobody):
    if row.due_iso:
        deadline = (f'<span class="deadline-kind">{escape(row.deadline_text)}</span>\n          '
                    f'<time class="countdown" datetime="{row.due_iso}" data-due="{row.due_iso}">'
                    f'{row.due_clock}</time>')
    else:
        deadline = NOTHING
    missed = "".join(
        f'\n          <div class="missed" data-missed-deadline="{d["id"]}">{icon_svg("alert-triangle")} '
        f'{escape(d["text"])} '
        f'(<time datetime="{d["due_iso"]}">{d["due_clock"]}</time>)</div>' for d in row.missed)
    if row.on_site:
        on_site = ", ".join(
            f'<span class="on-site" data-on-site="{escape(person["username"])}">{icon_svg("check")} '
            f'{escape(person["name"])}</span>'
            for person in row.on_site)
    else:
        on_site = nobody
    if row.plan_id:
        plan = (f'<span data-pending-plan="{row.plan_id}">{escape(row.plan_text)}</span>\n          '
                f'<time class="waiting" datetime="{row.plan_since_iso}" data-since="{row.plan_since_iso}" '
                f'data-decide-by="{row.plan_decide_by_iso}">{escape(row.plan_age_text)}</time>')
    else:
        plan = NOTHING
    return (
        f'\n      <tr data-incident-id="{row.id}" data-level="{level}"'
        + _row_class(row)
        + f'\n        <td><a href="/incidents/{row.id}/">#{row.id} {escape(row.title)}</a>\n          {badge}'
        + (drill if row.is_drill else "") + "</td>"
        + f"\n        <td>{escape(row.category_name)}</td>"
        + f'\n        <td><time datetime="{row.opened_iso}" data-since="{row.opened_iso}">'
        + f"{escape(row.age_text)}</time></td>"
        + f'\n        <td data-status="{escape(row.status)}">{escape(row.status_display)}</td>'
        + f"\n        <td>{deadline}{missed}</td>"
        + f"\n        <td>{on_site}</td>"
        + f"\n        <td>{plan}</td>"
        + "\n      </tr>\n      "
    )
