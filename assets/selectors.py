"""Reads of the asset register, for the pages, the API, incidents and the external parties' call-outs."""

from typing import NamedTuple

from django.db.models import QuerySet

from .models import Asset


def assets_list() -> QuerySet[Asset]:
    return Asset.objects.all().order_by("tag")


def asset_by_tag(tag: str) -> Asset | None:
    return Asset.objects.filter(tag=(tag or "").strip()).first() if tag else None


class VendorSupport(NamedTuple):
    vendor: str
    support_contract: str


def vendor_support(asset: Asset | None) -> VendorSupport | None:
    """Who supports ``asset`` (for a call-out's suggested party), or None when the register names nobody.

    Free text for now: the external-parties contacts replace it when both land (docs/assets.md).
    """
    if asset is None or not (asset.vendor or asset.support_contract):
        return None
    return VendorSupport(asset.vendor, asset.support_contract)
