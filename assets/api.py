"""GET, POST /api/v1/assets/: the register (``tag``, ``name``, ``kind``, ``category``, ``core``, ``location``, ``owner_role``)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from django.utils.translation import gettext as _

from core.errors import Refused
from plan.models import PlanVersion

from . import services
from .access import may_manage_assets
from .models import Asset
from .selectors import assets_list


class AssetSerializer(serializers.ModelSerializer):
    location = serializers.CharField(read_only=True)

    class Meta:
        model = Asset
        fields = ["tag", "name", "kind", "category", "core", "location", "room", "rack", "position", "owner_role",
                  "vendor", "support_contract", "retired"]
        read_only_fields = fields


class AssetCreateSerializer(serializers.Serializer):
    """Types only: ``assets.services.check_asset_fields`` checks the values, naming each field."""

    tag = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    kind = serializers.CharField(max_length=24)
    category = serializers.CharField(max_length=16)
    core = serializers.BooleanField()
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=210)
    owner_role = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    vendor = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    support_contract = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


@extend_schema_view(list=extend_schema(summary="The asset register, by tag"),
                    create=extend_schema(summary="Add an asset", request=AssetCreateSerializer,
                                         responses={201: AssetSerializer}))
class AssetViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = AssetSerializer
    filterset_fields = ["kind", "category", "room", "owner_role"]

    def get_queryset(self):
        return assets_list()

    def create(self, request, *args, **kwargs):
        if not may_manage_assets(request.user):
            raise Refused(_("only the emergency office (or staff) keeps the asset register"), code="forbidden",
                          status_code=403)
        data = AssetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = PlanVersion.objects.filter(is_active=True).first()
        known = set(version.roles.values_list("key", flat=True)) if version else None
        asset = services.asset_create(actor=request.user, data=dict(data.validated_data), known_roles=known)
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)
