"""API routes of the feedback app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .views import ComplaintViewSet, RatingViewSet

router = SimpleRouter()
router.register("ratings", RatingViewSet, basename="rating")
router.register("complaints", ComplaintViewSet, basename="complaint")

urlpatterns = router.urls
