"""One commit per request: the view's changes are committed once, after it returns.

indico's RH.process is the model: routes and services add and flush, and the
request commits at one place. A view that returns a response (a page, a
re-rendered form with its errors, a redirect) has its transaction committed;
one that raises (abort(404), an unexpected error) has it rolled back. A change
the view tried and that was refused was already undone by
app.services.transactions.changes(), so committing after a 422 keeps only what
the view meant to keep (an upload that failed is still recorded, for example).

The commit happens inside dispatch, so a failure to commit (the database is
locked, a constraint clash nobody foresaw) reaches the error handlers like any
error of the view, before the after-request hooks (which hand the committed
emails to the sender) run.
"""

from flask import Flask

from app.extensions import db


class Portal(Flask):
    def dispatch_request(self):
        response = self.make_response(super().dispatch_request())
        db.session.commit()
        return response
