"""Fixed choices of the bank workspace: contact channels, decline and reject reasons, webhook events.

Each decline reason carries what the firm can do about it: the firm sees the category and the advice,
never the officer's free text alone."""

from django.utils.translation import gettext_lazy as _

CONTACT_CHANNELS: dict[str, str] = {
    "phone": _("电话"),
    "visit": _("上门拜访"),
    "online": _("线上沟通"),
}

#: code → (category shown to the firm, what the firm can do about it)
DECLINE_REASONS: dict[str, tuple[str, str]] = {
    "years": (_("经营年限不足"), _("可关注对成立年限要求较低的产品，或待经营满规定年限后重新发布需求。")),
    "revenue": (
        _("营收规模不足"),
        _("可适当降低融资金额，或选择面向初创期企业的产品；营收增长后可再次申请。"),
    ),
    "leverage": (_("负债率过高"), _("建议优化资产负债结构、补充最新财务报表，或考虑增加担保方式。")),
    "collateral": (_("缺少抵质押物"), _("可考虑知识产权质押、应收账款质押或引入担保机构增信。")),
    "credit_history": (
        _("缺少信用记录"),
        _("可通过政府性融资担保机构增信，或先申请小额信用贷款积累信用记录。"),
    ),
    "industry": (_("行业不在支持范围"), _("可在产品超市中筛选支持本行业的产品，平台也会继续为您推荐。")),
    "documents": (_("资料不全"), _("请在企业工作台补充完善企业资料和财务材料后重新发布需求。")),
    "other": (_("其他"), _("请查看客户经理的说明，或联系平台服务人员获取帮助。")),
}
DECLINE_REASON_CHOICES = [(code, label) for code, (label, _advice) in DECLINE_REASONS.items()]

REJECT_REASONS: dict[str, str] = {
    "credit_record": _("征信记录不良"),
    "revenue": _("营收规模不足"),
    "leverage": _("负债率过高"),
    "collateral": _("担保条件不足"),
    "credit_history": _("缺少信贷记录（征信白户）"),
    "documents": _("申请材料不全"),
    "policy": _("不符合授信政策"),
    "other": _("其他"),
}
REJECT_REASON_CHOICES = list(REJECT_REASONS.items())


#: Decline and reject codes meaning "no collateral" or "no credit history": the firm is then offered
#: the government-guarantee route (``matching.services.guarantee``).
GUARANTEE_ROUTE_CODES = frozenset({"collateral", "credit_history"})


def decline_label(code: str) -> str:
    return str(DECLINE_REASONS.get(code, DECLINE_REASONS["other"])[0])


def decline_advice(code: str) -> str:
    """What a firm can do about a decline with this reason code."""
    return str(DECLINE_REASONS.get(code, DECLINE_REASONS["other"])[1])


#: The events an institution's webhook may subscribe to (``Institution.webhook_events``; an empty list
#: means all of them). ``application.*`` covers every application transition (submit, accept, approve …).
WEBHOOK_EVENTS: dict[str, str] = {
    "lead.created": _("新线索"),
    "lead.claimed": _("线索已认领"),
    "lead.contacted": _("已联系企业"),
    "lead.invited": _("已邀请企业申请"),
    "lead.declined": _("线索已拒绝"),
    "lead.reassigned": _("线索已改派"),
    "application.*": _("申请状态变化（提交、撤回、受理、授信、拒绝等）"),
}


def webhook_event_selected(event: str, selected: list[str]) -> bool:
    """Whether ``event`` is among the ``selected`` subscriptions (empty = every event)."""
    if not selected:
        return True
    return event in selected or f"{event.split('.', 1)[0]}.*" in selected
