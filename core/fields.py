"""Serializer fields the API shares."""

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A text field that takes text only: DRF's CharField turns a number or a boolean into its string, so
    ``{"comment": 8e302}`` would be stored as a comment instead of being refused with a 400 naming the field."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
