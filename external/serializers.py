"""The external app's API shapes."""

from rest_framework import serializers

from plan.models import PartyKind

from .models import CallOut, Channel, Contact, ExternalReport, Party, Stage
from .report_text import report_text


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "role", "phone", "mobile", "email"]
        read_only_fields = ["id"]


class PartySerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    contacts = ContactSerializer(many=True, read_only=True)
    arrival_within_s = serializers.SerializerMethodField()
    assets = serializers.SlugRelatedField(many=True, read_only=True, slug_field="tag",
                                          help_text="Tags of the assets the party covers.")

    class Meta:
        model = Party
        fields = ["key", "kind", "name", "name_en", "name_zh", "contract", "arrival_within_s", "support_hours",
                  "categories", "assets", "is_active", "contacts"]

    def get_name(self, party) -> str:
        return party.name

    def get_arrival_within_s(self, party) -> int | None:
        return int(party.arrival_within.total_seconds()) if party.arrival_within else None


class PartyCreateSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=64)
    kind = serializers.ChoiceField(choices=PartyKind.choices)
    name_en = serializers.CharField(max_length=200)
    name_zh = serializers.CharField(max_length=200)
    contract = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    arrival_within = serializers.CharField(required=False, allow_blank=True, default="",
                                           help_text="A duration such as 4h.")
    support_hours = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    # Any JSON: the service checks each item and names it, so an error stays {field: [message]}.
    categories = serializers.JSONField(required=False, default=list, help_text="Category keys, e.g. [\"network\"].")
    contacts = serializers.JSONField(required=False, default=list,
                                     help_text="A list of {name, role, phone, mobile, email}.")


class ExternalReportSerializer(serializers.ModelSerializer):
    party = serializers.CharField(source="party_key")
    text = serializers.SerializerMethodField()
    missed = serializers.BooleanField(read_only=True)

    class Meta:
        model = ExternalReport
        fields = ["id", "party", "stage", "level_key", "due_at", "confirmed", "sent_at", "channel", "reference",
                  "text", "facts", "missed"]

    def get_text(self, report) -> str:
        return report_text(report.facts or {})


class ExternalReportInputSerializer(serializers.Serializer):
    party = serializers.SlugField(max_length=64)
    stage = serializers.ChoiceField(choices=Stage.choices)
    sent_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    text = serializers.CharField(required=False, allow_blank=True, default="")
    facts = serializers.DictField(required=False, help_text="The report's sections, by name (occurred_at, affected, "
                                                            "level, cause, measures, expected_recovery, contact).")


class CallOutSerializer(serializers.ModelSerializer):
    party = serializers.CharField(source="party.key")
    contact = serializers.CharField(source="contact.name", default="")
    missed = serializers.SerializerMethodField()

    class Meta:
        model = CallOut
        fields = ["id", "party", "contact", "ticket", "called_at", "promised_by", "arrived_at", "departed_at",
                  "missed"]

    def get_missed(self, callout) -> bool:
        return callout.late


class CallOutInputSerializer(serializers.Serializer):
    party = serializers.SlugField(max_length=64)
    ticket = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    arrive_within = serializers.CharField(required=False, allow_blank=True, default="",
                                          help_text="A duration such as 2h; empty: the party's contract SLA.")
    contact = serializers.IntegerField(required=False, help_text="A contact's id; default the party's first.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MomentSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, help_text="Default: now.")
