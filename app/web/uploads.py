"""Large files stream to the storage folder while the request body is parsed.

For a view marked `@streams_files(...)`, the body is parsed by app.web.multipart,
which asks the request for a file object to write each uploaded file into
(`_get_file_stream`): an `Incoming` under the storage folder, which hashes and counts
the file as it is written. The file is never held in memory or copied from a
temporary file, and a file over the limit stops being written (its row shows why).
Every Incoming of a request that the view did not keep is deleted when the request
ends, so a failed, refused or cut-off upload leaves nothing behind. No database
transaction stays open while the body arrives (release_database_while_streaming).
"""

from collections.abc import Callable
from urllib.parse import quote

from flask import Flask, current_app, g, request, send_file
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from app.services.resources.storage import Incoming, Storage
from app.services.transactions import release_transaction
from app.web import multipart

MB = 1024 * 1024


def storage() -> Storage:
    return Storage(current_app.config["RESOURCE_STORAGE_DIR"])


def resource_max_bytes() -> int:
    return current_app.config["RESOURCE_MAX_MB"] * MB


def streams_files(max_files: Callable[[], int]) -> Callable:
    """Let this view receive up to max_files() files of up to RESOURCE_MAX_MB each,
    streamed to the storage folder; the request body may be that large in all."""

    def decorate(view: Callable) -> Callable:
        view.streams_files = max_files  # truthy: app.web.errors names the limits
        view.max_content_length = lambda: max_files() * resource_max_bytes() + MB
        return view

    return decorate


class StreamingFormDataParser(FormDataParser):
    """Werkzeug's form parser, with app.web.multipart for multipart bodies."""

    def _parse_multipart(self, stream, mimetype, content_length, options):
        try:
            form, files = multipart.parse(
                stream,
                options.get("boundary", "").encode("ascii", "replace"),
                self.stream_factory,
                max_field_bytes=self.max_form_memory_size,
                max_parts=self.max_form_parts,
            )
        except ValueError as error:
            # Said as such, not left to look like an expired form (no CSRF token).
            raise UnreadableUpload() from error
        return stream, form, files


class UnreadableUpload(BadRequest):
    portal_message = (
        "The upload could not be read: it arrived incomplete or malformed, so nothing of it "
        "was kept. Choose the files and upload them again."
    )


class PortalRequest(HtmxAwareRequest):
    """htmx-flask's request (request.htmx), streaming files for views that ask."""

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        view = current_app.view_functions.get(self.endpoint or "")
        if not getattr(view, "streams_files", False):
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        received = g.setdefault("incoming_files", [])
        if len(received) >= view.streams_files():
            # More files than the view takes: stop before each holds a file open.
            raise RequestEntityTooLarge()
        incoming = storage().receive(resource_max_bytes())
        received.append(incoming)
        return incoming

    def make_form_data_parser(self) -> FormDataParser:
        view = current_app.view_functions.get(self.endpoint or "")
        if not getattr(view, "streams_files", False):
            return super().make_form_data_parser()
        return StreamingFormDataParser(
            stream_factory=self._get_file_stream,
            max_form_memory_size=self.max_form_memory_size or 500_000,
            max_content_length=self.max_content_length,
            max_form_parts=self.max_form_parts,
            cls=self.parameter_storage_class,
        )


def release_database_while_streaming() -> None:
    """before_request, after the access guard (which read the signed-in user) and
    before anything reads the body: end that read's transaction, so that a long upload
    holds no database lock (SQLite takes its write lock with a POST's first query) and
    no PostgreSQL transaction stays open while the body arrives. The view's first query
    starts the next one."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "streams_files", False):
        release_transaction()


def incoming_files(uploads) -> list[tuple[str, Incoming]]:
    """(file name as sent, Incoming) for each file field of a streamed request;
    file inputs left empty are skipped."""
    found = []
    for upload in uploads:
        stream = upload.stream
        if not isinstance(stream, Incoming):
            raise RuntimeError("the view is not marked @streams_files")
        if not upload.filename and stream.size == 0:
            continue
        stream.finish()
        found.append((upload.filename or "", stream))
    return found


def stream_uploads(app: Flask) -> None:
    """Use PortalRequest (after htmx-flask, which sets its own request class), and
    delete what a request received but did not keep."""
    if not issubclass(PortalRequest, app.request_class):
        raise RuntimeError(f"PortalRequest does not extend {app.request_class}")
    app.request_class = PortalRequest

    @app.teardown_request
    def remove(_error=None) -> None:
        for incoming in g.pop("incoming_files", ()):
            incoming.discard()  # a no-op for files the view kept (moved away)


def send_stored(stored_name: str, *, media_type: str, name: str, sha256: str, as_attachment: bool):
    """A kept file as the response, under its original name: sent by the server's
    sendfile where it has one, with Range and conditional requests answered. None
    when the file is missing from the storage folder.

    With RESOURCE_ACCEL_REDIRECT set (nginx in front, an internal location over the
    storage folder's files/), the response only names the file and nginx sends it,
    Range included: no worker is held while a large file goes out."""
    path = storage().path_of(stored_name)
    if not path.is_file():
        return None
    accel = current_app.config.get("RESOURCE_ACCEL_REDIRECT")
    if accel:
        response = current_app.response_class(b"", mimetype=media_type)
        response.headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + stored_name
        response.headers["Content-Disposition"] = content_disposition(name, as_attachment)
        response.headers["ETag"] = f'"{sha256}"'
    else:
        response = send_file(
            path,
            mimetype=media_type,
            as_attachment=as_attachment,
            download_name=name,
            etag=sha256,
            conditional=True,
            max_age=0,
        )
    # Secure material: never kept in a shared cache, nor in the browser's.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(name: str, as_attachment: bool) -> str:
    """The Content-Disposition header for `name`: an ASCII fallback, and the name itself
    (RFC 6266 / 5987) when it is not plain ASCII."""
    kind = "attachment" if as_attachment else "inline"
    ascii_name = name.encode("ascii", "ignore").decode().replace("\\", "").replace('"', "")
    header = f'{kind}; filename="{ascii_name or "download"}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
