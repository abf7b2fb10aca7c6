"""Load the demo data. Idempotent: a second run changes no row counts."""

import os
import secrets
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo import seed as demo

DEMO_USERS = [
    ("demo_firm", "企业用户（山西晋科智能装备有限公司，已认证）"),
    ("demo_firm2", "企业用户（太原芯元半导体材料有限公司，已认证）"),
    ("demo_officer", "客户经理（浦发银行太原科技支行）"),
    ("demo_officer2", "客户经理（浦发银行太原科技支行）"),
    ("demo_officer_other", "客户经理（中国银行太原科技金融中心）"),
    ("demo_manager", "银行管理者（浦发银行太原分行）"),
    ("demo_staff", "省级专班（科技口：编写政策、初审申领）"),
    ("demo_city", "区域专班（太原市）"),
    ("demo_zonggai", "区域专班（山西转型综合改革示范区科技金融部，登记了综改区企业的上门服务）"),
    ("demo_finance", "财政专班（批准申领）"),
    ("demo_cashier", "财政专班出纳（标记拨付，与批准人不同）"),
]


def portal_url(path: str = "/") -> str:
    """The portal's address as ``make run`` serves it: HOST and PORT from the environment (the
    Makefile passes them; 127.0.0.1:8000 by default). A wildcard host is shown as 127.0.0.1."""
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "8000"
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104  # nosec B104 - only a displayed address
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today 须为 YYYY-MM-DD 格式的日期：{value}")


class Command(BaseCommand):
    help = "加载演示数据（可重复执行）：机构、产品、补贴政策、合成企业与演示账号；历史数据分布在运行日之前的12个月。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default="", help="演示账号的统一密码（不填则随机生成并打印）")
        parser.add_argument("--firms", type=int, default=300, help="合成企业数量（默认 300）")
        parser.add_argument(
            "--today",
            type=_day,
            default=None,
            help="演示数据的“今天”（YYYY-MM-DD，默认为北京时间当天；不能晚于实际日期）",
        )
        parser.add_argument("--seed", type=int, default=demo.SEED, help=f"随机种子（默认 {demo.SEED}）")

    def handle(self, *args, password: str, firms: int, today: date | None, seed: int, **options):
        if today is not None and today > timezone.localdate():
            raise CommandError(f"--today {today.isoformat()} 晚于今天：演示数据不能记录未来的事实。")
        password = password or secrets.token_urlsafe(9)
        report = demo.seed(password=password, firms=firms, today=today, seed=seed)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        for label, count in report.counts.items():
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write("")
        self.stdout.write(f"演示账号 / demo accounts ({portal_url('/accounts/login/')}):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<20} {role}")
        self.stdout.write(f"  密码 / password: {password}")
