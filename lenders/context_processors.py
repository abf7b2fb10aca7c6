from .selectors import new_lead_count


def bank_navigation(request):
    """The bank navigation's badge: unclaimed leads the user has not opened yet."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_bank", False):
        return {}
    return {"nav_new_leads": new_lead_count(user=user)}
