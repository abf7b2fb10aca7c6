"""Shanxi's 11 cities (GB/T 2260, 民政部 2024) and the 综改区 zone (NBS code 140171 under 太原市).

These are facts of the territory, not demo values; a data migration and seed_demo both call
``ensure_regions`` so that every database has them.
"""

CITIES = [
    ("140100", "太原市"),
    ("140200", "大同市"),
    ("140300", "阳泉市"),
    ("140400", "长治市"),
    ("140500", "晋城市"),
    ("140600", "朔州市"),
    ("140700", "晋中市"),
    ("140800", "运城市"),
    ("140900", "忻州市"),
    ("141000", "临汾市"),
    ("141100", "吕梁市"),
]
ZONES = [("140171", "山西转型综合改革示范区", "综改区", "140100")]


def ensure_regions(region_model) -> int:
    """Create or update the regions; returns how many rows were created. Idempotent."""
    created = 0
    for sort, (code, name) in enumerate(CITIES, start=1):
        _, was_created = region_model.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": name.removesuffix("市"), "kind": "city", "sort": sort},
        )
        created += was_created
    for sort, (code, name, short, parent) in enumerate(ZONES, start=len(CITIES) + 1):
        _, was_created = region_model.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": short, "kind": "zone", "parent_id": parent, "sort": sort},
        )
        created += was_created
    return created
