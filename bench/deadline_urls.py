"""The project's URLs plus the floor (a minimal view doing one INSERT and one SELECT) and,
for scale, a bare JSON view that does not touch the database."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from tremplin.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (payload) VALUES (%s) RETURNING id",
            [request.POST.get("payload", "")],
        )
        (row_id,) = cursor.fetchone()
        cursor.execute("SELECT payload FROM bench_floor WHERE id = %s", [row_id])
        cursor.fetchone()
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/floor/", floor), path("bench/bare/", bare), *project_urlpatterns]
