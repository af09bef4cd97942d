"""The widget's files, under stable addresses the bank's pages can link to, and a demo page."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

WIDGET_FILES = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}
# Short: a bank page picks up a fixed widget within minutes, without a cache-busting name.
WIDGET_MAX_AGE = 300


@require_GET
def widget_file(request: HttpRequest, name: str) -> HttpResponse:
    """`/intake/chat/widget.js` and `widget.css`: plain files, no CDN, no build step."""
    content_type = WIDGET_FILES.get(name)
    found = finders.find(f"intake/{name}") if content_type else None
    if not isinstance(found, str):
        raise Http404
    # A few kilobytes: read whole, which also keeps ASGI from streaming a sync iterator.
    response = HttpResponse(Path(found).read_bytes(), content_type=content_type)
    response["Cache-Control"] = f"public, max-age={WIDGET_MAX_AGE}"
    # The bank's site loads the script from here; it may read it, nothing else is shared.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def demo(request: HttpRequest) -> HttpResponse:
    """A stand-in for the bank's web page with the widget embedded, as its developers would."""
    return render(request, "intake/webchat_demo.html", {"endpoint": request.GET.get("endpoint")})
