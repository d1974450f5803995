"""The forms of Admin - TP. Field rules live in app.services.resources.naming and are
applied by the services, so an upload's rows and the details form check alike."""

from wtforms import FieldList, FileField, FormField, MultipleFileField, SelectField, StringField

from app.services.resources.naming import KINDS
from app.web.forms import PortalForm, VersionField

KIND_OPTIONS = [(kind.value, kind.label) for kind in KINDS]
METADATA = ("series", "syllabus", "component", "kind", "title")


class MetadataFields(PortalForm):
    series = SelectField("Series", choices=[], validate_choice=False)
    syllabus = StringField("Syllabus code", render_kw={"inputmode": "numeric", "maxlength": 4})
    component = StringField("Component", render_kw={"inputmode": "numeric", "maxlength": 2})
    kind = SelectField("Kind", choices=[], validate_choice=False)
    title = StringField("Title", render_kw={"maxlength": 200})

    def values(self) -> dict[str, str]:
        return {name: (self[name].data or "") for name in METADATA}

    def show_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            if name in METADATA:
                self[name].errors = [message]


class RowFields(MetadataFields):
    class Meta:
        csrf = False  # the confirmation form around the rows carries the token


class UploadForm(PortalForm):
    files = MultipleFileField("Files")


class ConfirmUploadForm(PortalForm):
    rows = FieldList(FormField(RowFields))


class ResourceForm(MetadataFields):
    version = VersionField()


class ReplaceForm(PortalForm):
    file = FileField("New file")
    version = VersionField()


class VersionOnlyForm(PortalForm):
    """Delete: the version the page was read at, so a delete made from a stale page is
    refused like any other edit."""

    version = VersionField()
