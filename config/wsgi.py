import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_site = get_wsgi_application()

from samphan.channels.wsgi import with_lean_webhooks  # noqa: E402  (needs the apps loaded above)

# Providers' webhooks (/webhooks/…) are served without the site's middleware: samphan/channels/wsgi.py.
application = with_lean_webhooks(_site)
