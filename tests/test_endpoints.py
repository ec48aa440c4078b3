"""Permissions fail closed: every endpoint is covered by a row of the permission table or is
public on purpose, and an endpoint that nobody declared answers 403."""
from flask_admin import expose

from admin_app import create_app
from admin_app.admin.base import VIEW_VERBS, SecuredModelView
from models import Party, db
from tests.conftest import AuthActions

# Pages anyone may reach: they log in, switch the language, report health or serve files.
PUBLIC = {"static", "admin.static", "auth.login", "auth.logout", "set_language", "healthz", "home", "favicon"}


def test_every_registered_endpoint_is_declared_in_the_permission_table_or_public(app):
    admin = app.extensions["admin"][0]
    secured = {view.endpoint: view for view in admin._views if isinstance(view, SecuredModelView)}
    undeclared = []
    for rule in app.url_map.iter_rules():
        blueprint, _, function = rule.endpoint.rpartition(".")
        if rule.endpoint in PUBLIC or rule.endpoint.startswith("admin."):
            continue  # admin.index is the dashboard, which checks its own table row
        view = secured.get(blueprint)
        if view is None:
            undeclared.append(rule.endpoint)
        elif function not in VIEW_VERBS and function != "ajax_lookup":
            undeclared.append(rule.endpoint)
        else:
            assert view.screen, view  # the row of the permission table it reads
    assert undeclared == []


def test_an_endpoint_missing_from_the_table_is_refused_even_to_who_may_list(_migrated_app, database_url, users,
                                                                            tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path)})

    class Forgotten(SecuredModelView):
        screen = "party"

        @expose("/forgotten/")
        def forgotten_view(self):
            return "the secret"

    app.extensions["admin"][0].add_view(Forgotten(Party, db, name="x", endpoint="forgotten"))
    client = app.test_client()
    assert AuthActions(client).login("kabag").status_code == 302
    assert client.get("/admin/forgotten/").status_code == 200  # the list: declared, and kabag may list parties
    response = client.get("/admin/forgotten/forgotten/")
    assert response.status_code == 403 and "the secret" not in response.get_data(as_text=True)


def test_an_id_beyond_the_column_type_is_no_row_not_a_database_error(login_as, users):
    """PostgreSQL refuses `integer = 2147483648` instead of finding nothing: such an id is simply unknown."""
    kabag = login_as("kabag")
    assert kabag.get("/admin/agreement/details/?id=2147483648").status_code in (302, 404)
    assert kabag.get("/admin/case/details/?id=2147483647").status_code in (302, 404)
    response = kabag.post("/admin/case/new/", data={"agreement_type": "KSB", "title": "KSB Uji", "object": "Uji",
                                                     "proposal_number": "1/2026", "proposal_date": "02-11-2026",
                                                     "received_date": "02-11-2026", "renews_agreement": "2147483648"})
    assert response.status_code == 200  # the form again, with its message; nothing was saved
