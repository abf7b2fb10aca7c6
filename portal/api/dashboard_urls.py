"""API routes of the 信息直通车 dashboard (mounted under /api/v1/)."""

urlpatterns: list = []
