"""A WSGI app that reads a request's body 1 MiB at a time and throws it away.

bench/resources.py serves it with gunicorn beside the portal, to show what the HTTP
transport alone (client, loopback, gunicorn reading the body) costs on this machine.
It answers as the portal's upload does: 302 to a confirmation page.
"""

READ = 1024 * 1024


def app(environ, start_response):
    body = environ["wsgi.input"]
    while body.read(READ):
        pass
    location = "/resources/upload/" + "0" * 32
    start_response("302 Found", [("Location", location), ("Content-Length", "0")])
    return [b""]
