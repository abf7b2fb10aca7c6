"""API of the 信息直通车 dashboard: the headline figures and the chart series (staff: all; a bank
manager: his institution; anyone else 403)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import selectors as dashboard
from dashboard.forms import DashboardFilterForm
from portal import kpi
from portal.api.permissions import IsManager, IsRegionDesk, IsStaff
from portal.models import Role

FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="开始日期（北京时间，含）"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="结束日期（北京时间，含）"),
    OpenApiParameter(
        "period", str, enum=["month", "quarter", "year", "custom"], description="统计期间，默认本月"
    ),
    OpenApiParameter("city", str, description="区划代码，如 140100；综改区 140171"),
    OpenApiParameter("industry", str, description="行业代码"),
    OpenApiParameter("institution", int, description="金融机构编号（银行管理者固定为本机构）"),
    OpenApiParameter("product_type", str, description="产品类型代码"),
    OpenApiParameter("product", int, description="产品编号"),
]

_DEC = serializers.CharField(help_text="十进制字符串")
_DEC_NULL = serializers.CharField(allow_null=True, help_text="十进制字符串；无数据时为 null")
_FIRST_LOAN_FIELDS = {
    "loans_disbursed_count": serializers.IntegerField(),
    "loans_disbursed_amount": _DEC,
    "first_loans": serializers.IntegerField(),
    "first_loan_amount": _DEC,
    "first_loan_share": _DEC_NULL,
}
SummarySerializer = inline_serializer(
    "DashboardSummary",
    {
        "firms_registered": serializers.IntegerField(),
        "firms_verified": serializers.IntegerField(),
        "needs_open": serializers.IntegerField(),
        "needs_open_amount": _DEC,
        "matches": serializers.IntegerField(),
        "near_misses": serializers.IntegerField(),
        "leads": serializers.IntegerField(),
        "leads_answered_in_time_share": _DEC_NULL,
        "median_response_hours": _DEC_NULL,
        "applications": serializers.IntegerField(),
        "approval_rate": _DEC_NULL,
        "credit_granted": _DEC,
        "loans_disbursed_count": serializers.IntegerField(),
        "loans_disbursed_amount": _DEC,
        "first_loans": serializers.IntegerField(help_text="首贷笔数（起息日在统计期内）"),
        "first_loan_amount": _DEC,
        "first_loan_share": _DEC_NULL,
        "subsidy_paid": _DEC,
        "leverage": _DEC_NULL,
        "needs": serializers.IntegerField(),
        "leverage_finance": _DEC,
        "leverage_fiscal": _DEC,
        "funnel": inline_serializer(
            "DashboardFunnelStep",
            {
                "stage": serializers.CharField(),
                "count": serializers.IntegerField(),
                "conversion": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
        "first_loans_by_institution": inline_serializer(
            "DashboardFirstLoansInstitution",
            {
                "institution_id": serializers.IntegerField(),
                "institution": serializers.CharField(),
                **_FIRST_LOAN_FIELDS,
            },
            many=True,
        ),
        "first_loans_by_city": inline_serializer(
            "DashboardFirstLoansCity",
            {"city": serializers.CharField(), "city_name": serializers.CharField(), **_FIRST_LOAN_FIELDS},
            many=True,
        ),
    },
)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "format": "decimal"}],
        "description": "计数为整数；金额（money 为 true）为元的十进制字符串，比率为小数字符串",
    }
)
class PointValueField(serializers.Field):
    """A series point's value: a count (integer) or an amount / ratio (decimal string)."""

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "分组键：机构编号（整数），或城市代码、行业、月份（字符串）",
    }
)
class PointKeyField(serializers.Field):
    """A series point's group key: an institution id (integer) or a code / month (string)."""

    def to_representation(self, value):
        return value


SeriesSerializer = inline_serializer(
    "DashboardSeries",
    {
        "metric": serializers.CharField(),
        "label": serializers.CharField(),
        "group_by": serializers.CharField(),
        "money": serializers.BooleanField(),
        "points": inline_serializer(
            "DashboardPoint",
            {
                "key": PointKeyField(),
                "label": serializers.CharField(),
                "value": PointValueField(),
            },
            many=True,
        ),
    },
)


def _filters(request) -> dashboard.Filters:
    if dashboard.asks_for_another_region(request.user, request.query_params.get("city")):
        raise NotFound(_("没有找到这个区域的数据。"))
    form = DashboardFilterForm(
        request.query_params,
        institution_locked=request.user.role == Role.MANAGER,
        city_locked=request.user.role == Role.REGION,
    )
    if not form.is_valid():
        raise ValidationError(
            {key: [str(message) for message in messages] for key, messages in form.errors.items()}
        )
    return form.to_filters()


class DashboardSummaryView(APIView):
    """信息直通车的总览指标与对接漏斗，以及按金融机构、按城市的放款与首贷（首贷笔数、首贷金额、首贷占比）。
    金额为元（十进制字符串），比率为 0–1 的小数字符串。"""

    permission_classes = [IsStaff | IsRegionDesk | IsManager]

    @extend_schema(parameters=FILTER_PARAMETERS, responses=SummarySerializer)
    def get(self, request):
        filters = _filters(request)
        figures = dashboard.summary(user=request.user, filters=filters)
        figures["first_loans_by_institution"] = dashboard.first_loans_by_institution(
            user=request.user, filters=filters
        )
        figures["first_loans_by_city"] = dashboard.first_loans_by_city(user=request.user, filters=filters)
        figures["funnel"] = [
            {"stage": s["stage"], "count": s["count"], "conversion": s["conversion"]}
            for s in figures["funnel"]
        ]
        return Response(figures)


class DashboardSeriesView(APIView):
    """图表数据：一个指标按城市、行业、机构、产品类型或月份分组。"""

    permission_classes = [IsStaff | IsRegionDesk | IsManager]

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, enum=list(dashboard.METRICS), description="指标"),
            OpenApiParameter(
                "group_by", str, enum=list(dashboard.GROUP_BYS), required=True, description="分组维度"
            ),
            *FILTER_PARAMETERS,
        ],
        responses=SeriesSerializer,
    )
    def get(self, request):
        metric = request.query_params.get("metric") or "loans_disbursed_amount"
        group_by = request.query_params.get("group_by", "")
        if metric not in dashboard.METRICS:
            raise ValidationError({"metric": [_("未知指标。")]})
        if group_by not in dashboard.GROUP_BYS:
            raise ValidationError(
                {"group_by": [_("分组维度应为 city、industry、institution、product_type 或 month。")]}
            )
        if not dashboard.metric_supports(metric, group_by):
            raise ValidationError({"group_by": [_("该指标不支持按此维度分组。")]})
        return Response(
            dashboard.series(user=request.user, filters=_filters(request), metric=metric, group_by=group_by)
        )


DefinitionSerializer = inline_serializer(
    "KpiDefinition",
    {
        "code": serializers.CharField(),
        "label": serializers.CharField(),
        "definition": serializers.CharField(),
    },
    many=True,
)


class DashboardDefinitionsView(APIView):
    """每个指标的口径：代码、中文名称与一句话定义（与页面上的口径说明相同）。公开。"""

    permission_classes = [AllowAny]

    @extend_schema(responses=DefinitionSerializer)
    def get(self, request):
        return Response(kpi.definitions())
