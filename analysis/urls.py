# Review-scoped pages; mounted at the site root by reviewapp.urls.
urlpatterns: list = []
