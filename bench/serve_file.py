"""A WSGI app that answers every GET with one file, through the server's
wsgi.file_wrapper (gunicorn's sendfile), as the portal's downloads do.

bench/releases.py serves it with gunicorn beside the portal, to show what the HTTP
transport alone costs for a download on this machine. The file is named by the
BENCH_SERVE_FILE environment variable.
"""

import os

PATH = os.environ.get("BENCH_SERVE_FILE", "")


def app(environ, start_response):
    file = open(PATH, "rb")  # noqa: SIM115  (closed by the server with the response)
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(os.path.getsize(PATH))),
        ],
    )
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None:
        return wrapper(file, 1024 * 1024)
    return iter(lambda: file.read(1024 * 1024), b"")
