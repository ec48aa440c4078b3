"""The papers printed from a case: the step-4 disposition sheet and the case file of step 17."""
from flask import abort
from flask_admin import expose


class CasePapers:
    """Mixed into CaseView: its routes live at /admin/case/..."""

    @expose("/file/")
    def file_view(self):
        abort(404)

    @expose("/sheet/")
    def sheet_view(self):
        abort(404)
