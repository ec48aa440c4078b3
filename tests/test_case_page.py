"""The case page is the hub of a case: where it stands above the fold, each checklist item done in
place, a refused move that keeps what was typed, and no link to a screen the role may not use."""
import io
import re
from datetime import datetime, timedelta, timezone
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models import Attendee, Case, Disposition, Document, Meeting, User, db
from seed.sample_files import sample_pdf
from tests.factories import PASSWORD, make_case, make_document
from tests.helpers import flashes, move, seen_state
from tests.test_browser import browser, live_server, page  # noqa: F401 (fixtures)


def _case(app, **fields) -> int:
    with app.app_context():
        case = make_case(**fields)
        db.session.commit()
        return case.id


def _page(client, case_id) -> str:
    response = client.get(f"/admin/case/details/?id={case_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _section(html: str, element_id: str) -> str:
    """The element with this id, up to its closing tag (forms and sections do not nest in themselves)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"', html)
    assert match, f"no #{element_id} on the page"
    tag = match.group(1)
    end = html.index(f"</{tag}>", match.end())
    return html[match.start():end]


def _upload(client, case_id, kind, data=None, name="dokumen.pdf", **fields):
    return client.post("/admin/case/upload/", data={
        "id": case_id, "kind": kind, "letter_number": "", "letter_date": "",
        "upload": (io.BytesIO(data if data is not None else sample_pdf(kind, str(case_id))), name), **fields},
        content_type="multipart/form-data")


# -- above the fold --------------------------------------------------------------------------------
def test_the_page_opens_with_the_case_its_clock_its_progress_and_what_to_do_now(app, login_as, users):
    case_id = _case(app, current_step=4, received_date=datetime.now().date() - timedelta(days=30))
    page = _page(login_as("kasubbag"), case_id)
    header = _text(_section(page, "case-header"))
    with app.app_context():
        number = db.session.get(Case, case_id).registration_number
    for shown in (number, "KSB", "KSB Pengelolaan sampah regional", "Pemerintah Kabupaten Probolinggo",
                  "Dinas Lingkungan Hidup", "Open", "days overdue"):
        assert shown in header, shown
    steps = re.findall(r"<li class=\"step-(\w+)\"[^>]*>", _section(page, "progress"))
    assert steps == ["done"] * 3 + ["current"] + ["future"] * 13
    assert _section(page, "progress").count('aria-current="step"') == 1
    assert re.search(r'class="step-current" title="4\. Forward the draft with a disposition sheet" aria-current="step"',
                     page)
    panel = _text(_section(page, "workflow"))
    assert "Forward the draft with a disposition sheet" in panel and "Head of Sub-section (Kasubbag)" in panel
    assert "✗ Disposition sheet (file)" in panel
    assert 'id="advance"' in page and 'id="send-back"' in page and 'id="hold"' in page and 'id="cancel"' in page
    # Step 4's sheet is printed from the case; the case file from its header.
    assert f'href="/admin/case/sheet/?id={case_id}"' in page and f'href="/admin/case/file/?id={case_id}"' in page
    # The record's own table is folded away, closed.
    assert re.search(r'<details id="case-record"[^>]*>', page) and "<details id=\"case-record\" open" not in page


def test_a_case_on_hold_says_since_when(app, login_as, users):
    case_id = _case(app, current_step=2)
    kasubbag = login_as("kasubbag")
    move(kasubbag, case_id, move="hold", note="Menunggu mitra", category="waiting_counterparty")
    header = _text(_section(_page(kasubbag, case_id), "case-header"))
    with app.app_context():
        assert db.session.get(Case, case_id).status == "on_hold"
    assert re.search(r"on hold since \w{3} \d{1,2}, \d{4}", header), header
    assert "On hold" in header


def test_the_history_shows_a_dash_for_no_step_and_never_none(app, login_as, users):
    case_id = _case(app)
    history = _text(_section(_page(login_as("staff"), case_id), "case-history"))
    assert "Registered" in history and "—" in history and "None" not in history


# -- each checklist item in place ------------------------------------------------------------------
def test_the_checklist_upload_files_a_document_of_the_fixed_kind_and_the_item_turns_met(app, login_as, users):
    case_id = _case(app, current_step=2)
    staff = login_as("staff")
    form = _section(_page(staff, case_id), "upload-plan")
    assert 'action="/admin/case/upload/"' in form and 'name="kind" value="plan"' in form
    assert 'enctype="multipart/form-data"' in form
    response = _upload(staff, case_id, "plan", letter_number="005/RKS/2026", letter_date="4 Nov 2026")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/case/details/?id={case_id}#checklist")
    landed = staff.get(response.headers["Location"])
    assert "Rencana kerja sama filed as version 1." in flashes(landed)  # titled in the section's language
    page = landed.get_data(as_text=True)
    assert "✓ Agreement plan (file)" in _text(page)
    assert 'id="upload-plan"' not in page  # met: nothing left to upload for it
    with app.app_context():
        document = db.session.execute(select(Document).where(Document.case_id == case_id)).scalar_one()
        assert (document.kind, document.revision, document.created_by_id) == ("plan", 1, users["staff"])
        assert (document.letter_number, document.letter_date.isoformat()) == ("005/RKS/2026", "2026-11-04")
        assert document.file_type == "application/pdf" and len(document.file_sha256) == 64
        assert document.file_name == "dokumen.pdf" and document.file_size > 0
    # A second upload of the same kind is the next version; the page lists both.
    assert _upload(staff, case_id, "plan", data=sample_pdf("Rencana", "revisi")).status_code == 302
    documents = _section(_page(staff, case_id), "case-documents")
    assert re.findall(r"<tr><td>(\d+)</td>", documents) == ["2", "1"]
    assert documents.count("/admin/document/download/?id=") == 2


def test_a_refused_upload_says_why_next_to_its_form_and_keeps_the_letter_number(app, login_as, users):
    case_id = _case(app, current_step=2)
    staff = login_as("staff")
    response = _upload(staff, case_id, "plan", data=b"<html><script>alert(1)</script></html>", name="x.pdf",
                       letter_number="006/RKS/2026")
    assert response.status_code == 302 and response.headers["Location"].endswith("#upload-plan")
    page = _page(staff, case_id)
    assert "not a PDF, DOCX" in _text(_section(page, "refusal-upload-plan"))
    assert 'value="006/RKS/2026"' in _section(page, "upload-plan")
    assert "refusal-upload-plan" not in _page(staff, case_id)  # for that one page view
    response = _upload(staff, case_id, "plan", data=b"", name="")
    assert "Choose the file" in _text(_page(staff, case_id))
    with app.app_context():
        assert db.session.execute(select(Document)).first() is None


def test_uploads_in_place_follow_the_document_rules(app, login_as, users):
    closed = _case(app, current_step=17, status="cancelled", cancel_reason="duplicate", proposal_number="C/1")
    kabag = login_as("kabag")
    assert _upload(kabag, closed, "other").status_code == 302
    assert "is closed" in _text(_page(kabag, closed))
    open_case = _case(app, current_step=2, proposal_number="C/2")
    assert _upload(login_as("viewer"), open_case, "plan").status_code == 403
    kabag = login_as("kabag")
    assert _upload(kabag, open_case, "not_a_kind").status_code == 400
    assert _upload(kabag, 999999, "plan").status_code == 404
    with app.app_context():
        assert db.session.execute(select(Document)).first() is None


def test_the_disposition_is_written_on_the_case_page_through_the_disposition_screen(app, login_as, users):
    case_id = _case(app, current_step=5)
    kabag = login_as("kabag")
    page = _page(kabag, case_id)
    form = _section(page, "disposition-form")
    action = unescape(re.search(r'action="([^"]+)"', form).group(1))
    assert urlsplit(action).path == "/admin/disposition/new/"
    assert f'name="case" value="{case_id}"' in form and 'name="csrf_token"' in form
    assert f'<option value="{users["staff"]}">Pengguna staff</option>' in form
    assert f'<option value="{users["viewer"]}">' not in form  # only people who work cases
    response = kabag.post(action, data={"case": case_id, "to_user": str(users["staff"]), "to_role": "",
                                        "instruction": "follow_up", "note": "Segera", "due_date": ""})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/case/details/?id={case_id}"
    page = _page(kabag, case_id)
    assert "✓ A disposition written at this step" in _text(page)
    dispositions = _text(_section(page, "case-dispositions"))
    assert "Pengguna kabag" in dispositions and "Pengguna staff" in dispositions and "Follow up" in dispositions
    # The staff member it is addressed to marks it done with one click; the kasubbag is not offered it.
    staff_page = _page(login_as("staff"), case_id)
    done = _section(staff_page, "case-dispositions")
    assert 'action="/admin/disposition/done/"' in done and "/admin/disposition/sheet/?id=" in done
    assert 'action="/admin/disposition/done/"' not in _page(login_as("kasubbag"), case_id)


def test_staff_on_the_kabag_step_are_told_who_performs_it_and_get_no_empty_note_box(app, login_as, users):
    case_id = _case(app, current_step=5)
    page = _page(login_as("staff"), case_id)
    moves = _text(_section(page, "moves"))
    assert "Step 5 is performed by Head of Section (Kabag)." in moves
    assert 'name="note"' not in _section(page, "moves") and "disposition-form" not in page


def test_the_meeting_is_planned_its_letters_generated_and_it_is_marked_held_from_the_case(app, login_as, users):
    case_id = _case(app, current_step=6)
    kasubbag = login_as("kasubbag")
    checklist = unescape(_section(_page(kasubbag, case_id), "checklist"))
    assert f"/admin/meeting/new/?case={case_id}&url=/admin/case/details/?id%3D{case_id}" in checklist
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.current_step = 7
        meeting = Meeting(case=case, scheduled_at=datetime.now(timezone.utc) - timedelta(hours=2), place="Aula",
                          minutes="Draf disepakati.", attendees=[Attendee(name="Tamu", position="Kabid",
                                                                           present=True)])
        db.session.add(meeting)
        db.session.commit()
        meeting_id = meeting.id
    staff = login_as("staff")
    page = unescape(_page(staff, case_id))
    assert f"/admin/meeting/letter/?id={meeting_id}&kind=invitation&url=/admin/case/details/?id%3D{case_id}" in page
    assert "Tamu" in _text(_section(page, "case-meetings")) and "Kabid" in _text(_section(page, "case-meetings"))
    with app.app_context():
        db.session.get(Case, case_id).current_step = 8
        db.session.commit()
    page = _page(kasubbag, case_id)
    form = _section(page, "meeting-held")
    assert 'action="/admin/meeting/held/"' in form and f'name="id" value="{meeting_id}"' in form
    assert "Draf disepakati." in form
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = kasubbag.post("/admin/meeting/held/", data={"id": meeting_id, "version": version,
                                                            "minutes": "Draf disepakati dengan catatan.",
                                                            "url": f"/admin/case/details/?id={case_id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/case/details/?id={case_id}")
    assert "✓ A held meeting" in _text(_page(kasubbag, case_id))


# -- a refused move --------------------------------------------------------------------------------
def test_a_refused_move_returns_to_its_form_with_the_note_and_the_reason(app, login_as, users):
    case_id = _case(app, current_step=4)
    kasubbag = login_as("kasubbag")
    state = seen_state(kasubbag, case_id)
    response = kasubbag.post("/admin/case/move/", data={"id": case_id, "move": "advance",
                                                        "note": "Draf lengkap, diteruskan", **state})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/case/details/?id={case_id}#move-advance"
    page = _page(kasubbag, case_id)
    assert 'value="Draf lengkap, diteruskan"' in _section(page, "move-advance")
    refusal = _text(_section(page, "refusal-move-advance"))
    assert "cannot be completed without" in refusal and "Disposition sheet (file)" in refusal
    # Shown once: the next view of the page is clean.
    again = _page(kasubbag, case_id)
    assert "refusal-move-advance" not in again and "Draf lengkap" not in again
    # A refused send back keeps the note, the step chosen, and the reason beside its form.
    response = kasubbag.post("/admin/case/move/", data={"id": case_id, "move": "return", "note": "Perlu revisi",
                                                        "to_step": "2", "step": "4", "version": "999"})
    assert response.headers["Location"].endswith("#move-return")
    form = _section(_page(kasubbag, case_id), "move-return")
    assert 'value="Perlu revisi"' in form and '<option value="2" title="2. Compose the agreement plan" selected>' in form
    # A hold without its category keeps the reason typed.
    kasubbag.post("/admin/case/move/", data={"id": case_id, "move": "hold", "note": "Menunggu", "category": "",
                                             **seen_state(kasubbag, case_id)})
    page = _page(kasubbag, case_id)
    assert "Choose the reason category" in _text(_section(page, "refusal-move-hold"))
    assert 'value="Menunggu"' in _section(page, "move-hold")
    with app.app_context():
        assert (db.session.get(Case, case_id).current_step, db.session.get(Case, case_id).status) == (4, "open")


def test_a_refusal_whose_form_is_gone_is_said_at_the_top(app, login_as, users):
    case_id = _case(app, current_step=2)
    kabag = login_as("kabag")
    move(kabag, case_id, move="hold", note="Menunggu OPD", category="waiting_opd_draft")
    staff = login_as("staff")
    page = move(staff, case_id)  # staff have no move on a held case: no form to show it next to
    assert "on hold" in flashes(page) and "refusal-move" not in page.get_data(as_text=True)


def test_send_back_hold_and_cancel_ask_first(app, login_as, users):
    case_id = _case(app, current_step=4)
    page = _page(login_as("kabag"), case_id)
    for kind in ("return", "hold", "cancel"):
        assert "data-confirm=" in _section(page, f"move-{kind}").split(">", 1)[0] + ">", kind
    assert "data-confirm=" not in _section(page, "move-advance").split(">", 1)[0]
    assert '<script src="/static/case.js"></script>' in page
    assert "window.confirm" in login_as("kabag").get("/static/case.js").get_data(as_text=True)


# -- registration lands on the case ---------------------------------------------------------------
def test_registering_a_case_lands_on_its_page_with_its_number(app, login_as, users):
    with app.app_context():
        from tests.factories import make_party
        subject, opd = make_party("university", "Universitas Panca Marga"), make_party("opd", "Dinas Pendidikan")
        db.session.commit()
        subject_id, opd_id = subject.id, opd.id
    staff = login_as("staff")
    response = staff.post("/admin/case/new/", data={
        "agreement_type": "KSB", "title": "KSB Magang", "subject": str(subject_id), "object": "Magang mahasiswa",
        "opd": str(opd_id), "proposal_number": "070/55/2026", "proposal_date": "2026-11-02",
        "received_date": "2026-11-03", "assigned_to": "", "previous_case": "", "renews_agreement": ""})
    assert response.status_code == 302
    with app.app_context():
        case_id = db.session.execute(select(Case.id)).scalar_one()
    assert response.headers["Location"] == f"/admin/case/details/?id={case_id}"
    landed = staff.get(response.headers["Location"])
    # One message, with the number: Flask-Admin's generic "created" is replaced, not added to.
    assert _text(flashes(landed)).replace("×", "").strip() == "KS/2026/0001 registered."
    assert "✗ Regulation notes (file)" in _text(landed.get_data(as_text=True))


# -- no link to a forbidden screen -----------------------------------------------------------------
@pytest.fixture()
def busy_case(app, users) -> int:
    """A case with something in every section: documents (two versions), a disposition, a meeting."""
    with app.app_context():
        case = make_case(current_step=8)
        make_document(case, "plan", "Rencana")
        make_document(case, "plan", "Rencana", revision=2)
        make_document(case, "opd_draft", "Draf")
        db.session.add(Disposition(case=case, step=5, author_id=users["kabag"], to_role="staff",
                                   instruction="follow_up", note="Siapkan rapat"))
        db.session.add(Meeting(case=case, scheduled_at=datetime.now(timezone.utc) - timedelta(hours=1), place="Aula",
                               attendees=[Attendee(name="Tamu", present=True)]))
        db.session.commit()
        return case.id


@pytest.mark.parametrize("role", ["viewer", "staff", "kasubbag", "kabag"])
def test_no_link_of_the_case_page_leads_to_a_page_the_role_may_not_use(app, login_as, busy_case, role):
    client = login_as(role)
    page = _page(client, busy_case)
    links = {unescape(href) for href in re.findall(r'href="([^"#]+)"', page)}
    links = {href for href in links if href.startswith("/") and not href.startswith("/static/")}
    assert any("/admin/document/download/" in href for href in links)
    refused = {}
    for href in sorted(links):
        status = client.get(href).status_code
        if status == 403:
            refused[href] = status
    assert refused == {}, f"{role} is led to pages it may not open: {refused}"
    forms = set(re.findall(r'<form method="post" action="([^"]+)"', page))
    if role == "viewer":
        assert not forms - {"/logout"} - {f for f in forms if f.startswith("/language/")}, forms
        assert 'name="note"' not in page


# -- in the browser, at 1366×768 -------------------------------------------------------------------
def _sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator('form.card button[type="submit"]').click()


def test_in_the_browser_the_work_is_above_the_fold_and_a_refused_send_back_keeps_the_note(
        app, users, page, live_server, tmp_path):  # noqa: F811 (fixtures)
    with app.app_context():
        db.session.get(User, users["kasubbag"]).language = "id"
        case = make_case(current_step=4)
        db.session.commit()
        case_id = case.id
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in(page, live_server, "kasubbag")
    page.goto(f"{live_server}/admin/case/details/?id={case_id}")
    for selector in ("#case-number", "#sla-clock", "#progress", "#requirements", "#upload-disposition_sheet",
                     "#advance", "#send-back", "#hold", "#cancel"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, (selector, box)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("#case-record").evaluate("details => details.open") is False
    shot = tmp_path / "case-page.png"
    page.screenshot(path=str(shot))
    print(f"\nscreenshot of the case page at 1366x768: {shot}")

    # Someone else changes the case while the note is typed: the send back is refused, the note stays.
    page.fill("#move-return input[name='note']", "Draf OPD belum lengkap, mohon dilengkapi")
    with app.app_context():
        db.session.get(Case, case_id).title = "KSB Pengelolaan sampah regional (revisi)"
        db.session.commit()
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.locator("#send-back").click()
    assert asked and asked[0]
    assert page.url.endswith("#move-return")
    assert page.locator("#move-return input[name='note']").input_value() == "Draf OPD belum lengkap, mohon dilengkapi"
    refusal = page.locator("#refusal-move-return")
    assert refusal.is_visible() and refusal.inner_text().strip()
    box = page.locator("#send-back").bounding_box()
    assert 0 <= box["y"] <= 768  # still in view where the user left it
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 4

    # Dismissing the question sends nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#send-back").click()
    page.wait_for_timeout(300)
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 4
