"""Selection pages (staff, jurors and applicants), one list per part, in one namespace."""

from tremplin.selection import urls_assessment, urls_letters, urls_offers, urls_ranking

app_name = "selection"

urlpatterns = [
    *urls_assessment.urlpatterns,
    *urls_ranking.urlpatterns,
    *urls_offers.urlpatterns,
    *urls_letters.urlpatterns,
]
