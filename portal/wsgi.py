"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

from portal.ops.heap import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()
# Each worker builds its application (no preload), then leaves what it built
# to live out of the collector's walks.
freeze_startup_objects()
