"""The level a fault found on an asset suggests, from the plan's criteria (plan 3.2): one table, as data.

A round finds a device *not ok* while walking the room. Which of the plan's
criteria that matches depends on the asset's fault category and on whether it
is core or peripheral, so the rule is a table per category × core. Each entry
names the plan cell whose criteria text it rests on; the person logging the
fault sees the suggestion preselected and may choose another level (a finding
is evidence, the person judges the impact).

Why these levels (the shipped plan's criteria, ``plan/plans/credit-system.yaml``):

- equipment, peripheral → **yellow**: "Peripheral-system hardware fails, but
  business can still continue" (3.2.2 较重). A device found failing on a round
  is still carrying business, or monitoring would have raised the alarm.
- equipment, core → **orange**: "A host of the core system has a major fault
  and cannot run" (3.2.2 严重). Core hardware found failing is treated as the
  core-host case; a core server or storage also marks the fault a host fault,
  which starts the host emergency procedure (plan 4.2.3).
- network, peripheral → **blue**: "Some lines fail, so that business on them
  cannot be carried out" (3.2.1 一般).
- network, core → **yellow**: "A trunk line fails, or a network aggregation
  device fails" (3.2.1 较重): core network gear is the aggregation layer.
- system, peripheral → **blue**: "Heavy use of CPU, memory, network, storage …
  on a peripheral system" (3.2.3 一般).
- system, core → **yellow**: "Heavy use … on the savings host system makes
  main branch transactions slow" (3.2.3 较重).

A plan without the suggested level (a test plan, a new format) falls back to
its mildest level.
"""

from typing import NamedTuple

from .models import Asset, AssetKind


class Suggestion(NamedTuple):
    level: str
    # The plan's section whose criteria the suggestion follows.
    section: str


SUGGESTED_LEVEL: dict[tuple[str, bool], Suggestion] = {
    ("equipment", False): Suggestion("yellow", "3.2.2"),
    ("equipment", True): Suggestion("orange", "3.2.2"),
    ("network", False): Suggestion("blue", "3.2.1"),
    ("network", True): Suggestion("yellow", "3.2.1"),
    ("system", False): Suggestion("blue", "3.2.3"),
    ("system", True): Suggestion("yellow", "3.2.3"),
}

# Kinds of asset whose core fault is a host fault (plan 4.2.3: "a host fault starts the host emergency procedure").
HOST_KINDS = frozenset({AssetKind.SERVER, AssetKind.STORAGE})


def suggested_level(asset: Asset, *, level_keys: list[str] | None = None) -> str:
    """The level key the plan's criteria suggest for a fault on ``asset``.

    ``level_keys`` (mildest first) are the levels the active plan has: when the
    table's level is not among them, the mildest one is suggested.
    """
    level = SUGGESTED_LEVEL[asset.category, asset.core].level
    if level_keys is not None and level not in level_keys:
        return level_keys[0] if level_keys else level
    return level


def is_host_fault(asset: Asset) -> bool:
    return asset.core and asset.category == "equipment" and asset.kind in HOST_KINDS
