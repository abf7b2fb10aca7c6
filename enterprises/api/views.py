"""The firm API: registration, own enterprise, qualifications, IP, needs, documents, eligibility,
applications, consent and the profile-view log. Thin: selectors to read, services to write."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from lenders.oauth import ClientScope
from matching.selectors import application_for_user, match_for_user
from matching.services.applications import application_offer_accept, application_submit, application_withdraw
from portal.api.parsers import JSONParser
from portal.api.permissions import IsFirm, IsStaff
from portal.services import ServiceError
from products.selectors import product_for_user

from .. import services
from ..consent import ConsentPurpose
from ..filtersets import ApplicationFilterSet, NeedFilterSet
from ..models import ANNUAL_FIGURES, AnnualFigures, ProfileView
from ..selectors import (
    consent_overview,
    consent_switch,
    document_for_user,
    enterprise_for_user,
    first_loan_firm_for,
    ip_asset_for_user,
    need_for_user,
    product_eligibility,
    profile_views_for,
    qualification_for_user,
)
from .serializers import (
    AnnualFiguresSerializer,
    ApplicationDetailSerializer,
    ApplicationSerializer,
    ConsentSerializer,
    DocumentSerializer,
    EligibilitySerializer,
    EnterpriseSerializer,
    IPAssetSerializer,
    NeedSerializer,
    ProfileViewSerializer,
    QualificationSerializer,
    RegisterSerializer,
    WithdrawSerializer,
)

ENTERPRISE_INPUT_FIELDS = {"name", "uscc", "legal_representative", "city"}


def _my_enterprise(request):
    return get_object_or_404(
        enterprise_for_user(request.user).prefetch_related(ANNUAL_FIGURES), pk=request.user.enterprise_id
    )


class RegisterView(APIView):
    """企业注册：一次创建企业用户和企业（待审核）。统一社会信用代码错误时，错误在 enterprise.uscc 下。"""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RegisterSerializer, responses={201: EnterpriseSerializer})
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            user = services.firm_register(
                username=data["username"],
                password=data["password"],
                mobile=data["mobile"],
                email=data.get("email") or "",
                enterprise=dict(data["enterprise"]),
                shares_profile=data.get("shares_profile", False),
            )
        except ServiceError as exc:
            if exc.field in ENTERPRISE_INPUT_FIELDS:
                raise ValidationError({"enterprise": {exc.field: [exc.message]}})
            raise ValidationError({exc.field or "detail": [exc.message]})
        body = EnterpriseSerializer(user.enterprise).data
        return Response(
            {"user": {"id": user.pk, "username": user.username}, **body}, status=status.HTTP_201_CREATED
        )


class EnterpriseMeView(APIView):
    """本企业资料：GET 查看，PATCH 修改（金额为元）。"""

    permission_classes = [IsFirm]

    @extend_schema(responses=EnterpriseSerializer)
    def get(self, request):
        return Response(EnterpriseSerializer(_my_enterprise(request)).data)

    @extend_schema(request=EnterpriseSerializer, responses=EnterpriseSerializer)
    def patch(self, request):
        enterprise = _my_enterprise(request)
        serializer = EnterpriseSerializer(enterprise, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.enterprise_update(user=request.user, enterprise=enterprise, **serializer.validated_data)
        return Response(EnterpriseSerializer(_my_enterprise(request)).data)


class AnnualFiguresMeView(APIView):
    """本企业某一财务年度的经营数据（金额为元）：GET 查看（未填报的年度 404），PUT 填报或更正（只能是
    最近三个财务年度；未提交的指标记为未填报）。全部年度见 GET /api/v1/enterprises/me/ 的 annual_figures。"""

    permission_classes = [IsFirm]

    @extend_schema(responses=AnnualFiguresSerializer)
    def get(self, request, year: int):
        enterprise = _my_enterprise(request)
        row = get_object_or_404(AnnualFigures.objects.filter(enterprise=enterprise), year=year)
        return Response(AnnualFiguresSerializer(row).data)

    @extend_schema(request=AnnualFiguresSerializer, responses=AnnualFiguresSerializer)
    def put(self, request, year: int):
        enterprise = _my_enterprise(request)
        serializer = AnnualFiguresSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {name: serializer.validated_data.get(name) for name in AnnualFigures.FIGURE_FIELDS}
        row = services.annual_figures_save(enterprise=enterprise, year=year, data=data, by=request.user)
        return Response(AnnualFiguresSerializer(row).data)


class QualificationMeView(generics.ListCreateAPIView):
    """本企业资质（过期的 valid_today 为 false，匹配时不计入）。"""

    permission_classes = [IsFirm]
    serializer_class = QualificationSerializer

    def get_queryset(self):
        return qualification_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.qualification_create(
            user=self.request.user, enterprise=_my_enterprise(self.request), **serializer.validated_data
        )


class IPAssetMeView(generics.ListCreateAPIView):
    """本企业知识产权。"""

    permission_classes = [IsFirm]
    serializer_class = IPAssetSerializer

    def get_queryset(self):
        return ip_asset_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.ip_asset_create(
            user=self.request.user, enterprise=_my_enterprise(self.request), **serializer.validated_data
        )


class ConsentMeView(APIView):
    """资料授权：全部机构开关 shares_profile，及逐家机构的授权记录（granted、purposes 用途、scope 资料范围、
    granted_at、expires_on 到期日（最长一年）、status：active/revoked/expired/none）。撤回立即生效，并撤回该机构进行中的线索。"""

    permission_classes = [IsFirm]

    def _body(self, enterprise):
        switch = consent_switch(enterprise)
        return {
            "shares_profile": switch["on"],
            "shares_profile_expires_on": switch["record"].expires_on if switch["on"] else None,
            "institutions": [
                {
                    "institution": r["institution"].pk,
                    "institution_name": r["institution"].name,
                    "granted": r["granted"],
                    "purposes": r["purposes"],
                    "scope": r["scope"],
                    "granted_at": r["granted_at"],
                    "expires_on": r["expires_on"],
                    "status": r["status"],
                    "source": r["source"],
                    "via_all": r["via_all"],
                }
                for r in consent_overview(enterprise)
            ],
        }

    @extend_schema(responses=ConsentSerializer)
    def get(self, request):
        return Response(ConsentSerializer(self._body(_my_enterprise(request))).data)

    @extend_schema(request=ConsentSerializer, responses=ConsentSerializer)
    def put(self, request):
        enterprise = _my_enterprise(request)
        serializer = ConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.consent_update(
            user=request.user,
            enterprise=enterprise,
            shares_profile=data["shares_profile"],
            institutions={row["institution"]: row for row in data.get("institutions", [])},
        )
        return Response(ConsentSerializer(self._body(_my_enterprise(request))).data)


class ProfileViewMeView(generics.ListAPIView):
    """谁在什么时间查看了本企业资料（机构、客户经理）。"""

    permission_classes = [IsFirm]
    serializer_class = ProfileViewSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ProfileView.objects.none()
        return profile_views_for(_my_enterprise(self.request))


class NeedViewSet(viewsets.ModelViewSet):
    """融资需求：企业只看到本企业的需求；DELETE 为撤回。金额为元。"""

    serializer_class = NeedSerializer
    filterset_class = NeedFilterSet
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [(IsFirm | IsStaff)()]
        return [IsFirm()]

    def get_queryset(self):
        return need_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.need_create(
            user=self.request.user, enterprise=_my_enterprise(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.need_update(
            user=self.request.user, need=self.get_object(), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.need_withdraw(user=self.request.user, need=instance)


class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """企业材料（PDF/JPG/PNG，按文件内容判断类型，上限 10 MB）。其他企业的材料为 404。"""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsFirm()]

    def get_queryset(self):
        return document_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.document_upload(
            user=self.request.user,
            enterprise=_my_enterprise(self.request),
            kind=serializer.validated_data["kind"],
            file=serializer.validated_data["file"],
        )

    def perform_destroy(self, instance):
        services.document_delete(user=self.request.user, document=instance)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        document = self.get_object()
        try:
            handle = document.file.open("rb")
        except FileNotFoundError:
            raise Http404("file")
        return FileResponse(handle, content_type=document.content_type, filename=document.original_name)


class EligibilityView(APIView):
    """本企业对某产品的准入检查：与匹配服务同一套规则（matching.engine.evaluate）。可选 ?need=需求编号。"""

    permission_classes = [IsFirm]

    @extend_schema(
        parameters=[
            OpenApiParameter("need", int, required=False, description="融资需求编号，默认最新的对接中需求")
        ],
        responses=EligibilitySerializer,
    )
    def get(self, request, pk: int):
        product = get_object_or_404(product_for_user(request.user), pk=pk)
        needs = need_for_user(request.user)
        need_id = request.query_params.get("need")
        if need_id:
            if not str(need_id).isdigit():
                raise ValidationError({"need": ["需求编号应为整数。"]})
            need = get_object_or_404(needs, pk=need_id)
        else:
            need = needs.filter(status="open").order_by("-created_at", "-id").first()
        evaluation = product_eligibility(user=request.user, product=product, need=need)
        data = evaluation.as_dict()
        return Response(
            EligibilitySerializer({"eligible": data["eligible"], "criteria": data["criteria"]}).data
        )


class ApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """融资申请：企业提交、查看、撤回本企业的申请；银行与专班只读（按角色范围）。"""

    filterset_class = ApplicationFilterSet
    ordering_fields = ["created_at", "status_changed_at", "amount"]
    client_scope = "applications"  # a bank's machine client: applications:read to list and read

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated(), ClientScope()]
        return [IsFirm(), ClientScope()]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ApplicationDetailSerializer
        if self.action in ("withdraw", "accept"):
            return WithdrawSerializer
        return ApplicationSerializer

    def get_queryset(self):
        return application_for_user(self.request.user).annotate(
            is_first_loan_firm=first_loan_firm_for(self.request.user, purpose=ConsentPurpose.APPLICATION)
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        user = self.request.user
        match = need = None
        if data.get("match_id"):
            match = match_for_user(user).filter(pk=data["match_id"]).first()
            if match is None:
                raise ValidationError({"match": ["找不到这条推荐记录。"]})
        if data.get("need_id"):
            need = need_for_user(user).filter(pk=data["need_id"]).first()
            if need is None:
                raise ValidationError({"need": ["找不到这条融资需求。"]})
        documents = []
        if data.get("documents"):
            documents = list(
                document_for_user(user).filter(enterprise_id=user.enterprise_id, pk__in=data["documents"])
            )
            if len(documents) != len(set(data["documents"])):
                raise ValidationError({"documents": ["只能附上本企业上传的材料。"]})
        serializer.instance = application_submit(
            user=user,
            product=data["product"],
            amount=data["amount"],
            term_months=data["term_months"],
            purpose=data["purpose"],
            note=data.get("note", ""),
            match=match,
            need=need,
            documents=documents,
            share_profile=data.get("share_profile", False),
        )

    @extend_schema(request=WithdrawSerializer, responses=ApplicationDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self.get_object()
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = application_withdraw(
            user=request.user, application=application, note=serializer.validated_data["note"]
        )
        fresh = self.get_queryset().get(pk=application.pk)
        return Response(ApplicationDetailSerializer(fresh, context={"request": request}).data)

    @extend_schema(
        request=WithdrawSerializer,
        responses=ApplicationDetailSerializer,
        summary="企业签约确认授信",
        description="企业接受该授信方案（签约确认）：同一融资需求下本企业的其他有效授信和申请随即释放"
        "（撤回，原因 chose_other）。授信已过期、已释放或状态不符返回 409。",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        application = self.get_object()
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = application_offer_accept(
            user=request.user, application=application, note=serializer.validated_data["note"]
        )
        fresh = self.get_queryset().get(pk=application.pk)
        return Response(ApplicationDetailSerializer(fresh, context={"request": request}).data)
