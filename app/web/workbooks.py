"""Sending a workbook the portal wrote (samples, PINs files) as a download."""

from flask import Response, current_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_download(content: bytes, file_name: str, *, private: bool = False) -> Response:
    """`content` as an .xlsx attachment named `file_name`; `private` ones (PINs) are
    never kept by a browser or proxy cache."""
    headers = {"Content-Disposition": f'attachment; filename="{file_name}"'}
    if private:
        headers["Cache-Control"] = "no-store"
    return current_app.response_class(content, mimetype=XLSX, headers=headers)
