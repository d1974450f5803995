"""The errors a domain operation raises when it refuses a change: pure, at the bottom.

A route catches DomainError, shows str(error) beside the field or on the page,
and the request's transaction keeps nothing of the refused change (see
app.services.transactions.changes).
"""


class DomainError(ValueError):
    """A change refused for a reason the user can act on; str(error) says which, in the
    board's words."""


class EditConflict(DomainError):
    """Someone saved the record after this form was opened: nothing is overwritten."""

    def __init__(self, what: str, by: str | None, at) -> None:
        self.what, self.by, self.at = what, by, at
        who = f" by {by}" if by else ""
        when = f" at {at:%d %b %Y %H:%M} UTC" if at else ""
        super().__init__(
            f"{what} was changed{who}{when} since you opened it, so your changes were not "
            "saved. It is shown below as it is now: make your changes again and save."
        )
