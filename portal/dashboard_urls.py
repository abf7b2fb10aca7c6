"""Pages of the 信息直通车 dashboard, service visits and official lists (staff, managers)."""

app_name = "dashboard"

urlpatterns: list = []
