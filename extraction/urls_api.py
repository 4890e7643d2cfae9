# Mounted under /api/reviews/<int:review_pk>/ by reviewapp.urls_api.
urlpatterns: list = []
