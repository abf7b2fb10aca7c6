"""The portal's vocabulary: code → Chinese label, in display order, for the codes every app shares.

Industries, development stages, guarantee types, qualifications and product types are stored as
these codes by the models of several apps and judged by the matching engine; this module is their
one source (``choices=list(INDUSTRIES.items())``). It is plain data on the standard library only,
so the ground floor, every app and the pure matching engine can all import it.
"""

#: 战略性新兴产业 (《战略性新兴产业分类(2018)》) plus 其他 for firms outside them.
INDUSTRIES: dict[str, str] = {
    "next_gen_it": "新一代信息技术产业",
    "high_end_equipment": "高端装备制造产业",
    "new_materials": "新材料产业",
    "biotech": "生物产业",
    "nev": "新能源汽车产业",
    "new_energy": "新能源产业",
    "energy_saving": "节能环保产业",
    "digital_creative": "数字创意产业",
    "related_services": "相关服务业",
    "other": "其他",
}

#: A firm's development stage.
STAGES: dict[str, str] = {
    "seed": "种子期",
    "startup": "初创期",
    "growth": "成长期",
    "mature": "成熟期",
}

#: Guarantee (security) types a need can offer and a product can accept.
GUARANTEE_TYPES: dict[str, str] = {
    "credit": "信用",
    "ip_pledge": "知识产权质押",
    "order": "订单",
    "receivable": "应收账款",
    "collateral": "抵押",
    "guarantee": "担保",
}

#: Qualifications a firm can hold (domain.md §5). 专精特新 tiers lowest to highest.
QUALIFICATIONS: dict[str, str] = {
    "hitech": "高新技术企业",
    "tech_sme": "科技型中小企业",
    "srdi_innovative": "创新型中小企业",
    "srdi_sme": "专精特新中小企业",
    "srdi_giant": '专精特新"小巨人"',
}

#: Kinds of financial product in the 产品超市.
PRODUCT_TYPES: dict[str, str] = {
    "credit": "信用贷款",
    "ip_pledge": "知识产权质押贷款",
    "order_financing": "订单融资",
    "talent": "人才贷",
    "export": "出口信贷",
    "equity_linked": "投贷联动/股权",
    "insurance": "科技保险",
}
