from .selectors import unread_count


def navigation(request):
    """What the navigation bar needs: the role and the unread notification count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": None, "nav_unread": 0}
    return {"nav_role": user.role, "nav_unread": unread_count(user=user)}
