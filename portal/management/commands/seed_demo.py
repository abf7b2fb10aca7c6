"""Load the demo data. Idempotent: a second run changes no row counts."""

import secrets

from django.core.management.base import BaseCommand

from portal.demo import seed

DEMO_USERS = [
    ("demo_firm", "企业用户（山西晋科智能装备有限公司，已认证）"),
    ("demo_firm2", "企业用户（太原芯元半导体材料有限公司，已认证）"),
    ("demo_officer", "客户经理（浦发银行太原科技支行）"),
    ("demo_officer2", "客户经理（浦发银行太原科技支行）"),
    ("demo_officer_other", "客户经理（中国银行太原科技金融中心）"),
    ("demo_manager", "银行管理者（浦发银行太原分行）"),
    ("demo_staff", "省级专班"),
]


class Command(BaseCommand):
    help = "加载演示数据（可重复执行）：机构、产品、补贴政策、合成企业与演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("--password", default="", help="演示账号的统一密码（不填则随机生成并打印）")
        parser.add_argument("--firms", type=int, default=300, help="合成企业数量（默认 300）")

    def handle(self, *args, password: str, firms: int, **options):
        password = password or secrets.token_urlsafe(9)
        report = seed(password=password, firms=firms)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        for label, count in report.counts.items():
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write("")
        self.stdout.write("演示账号 / demo accounts (http://127.0.0.1:8000/accounts/login/):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<20} {role}")
        self.stdout.write(f"  密码 / password: {password}")
