"""DRF permission classes by role."""

from rest_framework.permissions import BasePermission

from portal.models import Role


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()
    message = "当前账号的角色无权执行此操作。"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles)


class IsFirm(_RolePermission):
    roles = (Role.FIRM,)


class IsBank(_RolePermission):
    roles = (Role.OFFICER, Role.MANAGER)


class IsManager(_RolePermission):
    roles = (Role.MANAGER,)


class IsStaff(_RolePermission):
    roles = (Role.STAFF,)


class IsRegionDesk(_RolePermission):
    """A region's desk (区域专班): its querysets and figures are scoped to its region."""

    roles = (Role.REGION,)
class IsSubsidyDesk(_RolePermission):
    """The science desk (staff) or the finance desk; the step each may take is ``subsidies.duties``."""

    roles = (Role.STAFF, Role.FINANCE)
