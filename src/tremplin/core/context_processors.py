from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """The current school access (on school pages) for the layout's menus."""
    return {"access": getattr(request, "access", None)}
