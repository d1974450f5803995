"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # A setting is missing: say which, in one line, rather than with a traceback.
    sys.exit(f"The portal cannot start: {error}")
