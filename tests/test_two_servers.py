"""More than one server: two gunicorn instances, each with its own instance folder (INSTANCE_PATH), on one
database, the same SECRET_KEY and one shared UPLOAD_FOLDER, serve one panel. A person may be sent to
either at any request: the session, the login lock, the letter numbers and the stored files are
the same on both, and two people moving one case at once through different servers get one move."""
import hashlib
import re
import threading
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Attendee, Case, Document, LoginThrottle, Meeting, StepEvent, db
from models.counter import Counter
from models.setting import SETTING_DEFAULTS
from models.sla import CITY_TIME_ZONE, is_working_day, local_today
from seed.sample_files import sample_pdf
from tests.factories import PASSWORD, make_case, make_document, make_user
from tests.servers import Browser, flash_text, running_servers


class Cluster:
    def __init__(self, servers, uploads: Path):
        self.a, self.b = servers
        self.uploads = uploads


@pytest.fixture(scope="module")
def cluster(_migrated_app, database_url, tmp_path_factory):
    """Servers A and B, booted once for this module (each test's `app` empties the tables they read).
    One worker each: what differs here is the server; several workers of one server are
    test_login_throttle.py's."""
    root = tmp_path_factory.mktemp("two-servers")
    uploads = root / "shared-uploads"
    with running_servers([root / "a", root / "b"], database_url, upload_folder=uploads, workers=1) as servers:
        yield Cluster(servers, uploads)


def _logged_in(base: str, username: str) -> Browser:
    browser = Browser(base)
    assert browser.login(username, PASSWORD) == 302
    return browser


def _case_page(browser: Browser, case_id: int):
    page = browser.get(f"/admin/case/details/?id={case_id}")
    assert page.status == 200, page.text[:2000]
    return page


def _files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_each_server_has_its_own_instance_folder_and_the_same_database(app, cluster):
    for server in (cluster.a, cluster.b):
        assert server.instance.is_dir(), server.log()  # made from that server's INSTANCE_PATH
        health = Browser(server.base).get("/healthz")
        assert (health.status, health.text.count('"ok"')) == (200, 3)
    assert cluster.a.instance != cluster.b.instance


def test_a_login_through_one_server_is_a_login_on_the_other(app, users, cluster):
    person = _logged_in(cluster.a.base, "staff")
    on_b = person.on(cluster.b.base)
    page = on_b.get("/admin/case/")
    assert (page.status, page.url) == (200, f"{cluster.b.base}/admin/case/")
    assert "Pengguna staff" in page.text

    # Logging out through B, with B's form and its CSRF token, ends the session on A too.
    bye = on_b.submit(on_b.form(page, action="/logout"))
    assert (bye.status, bye.url) == (200, f"{cluster.b.base}/login")
    assert person.get("/admin/case/", follow=False).location().startswith("/login")


def test_wrong_passwords_through_both_servers_count_together(app, users, cluster):
    limit = app.config["LOGIN_MAX_FAILURES"]
    through_a, through_b = Browser(cluster.a.base), Browser(cluster.b.base)
    for attempt in range(limit):  # alternately, so neither server alone saw the limit
        guesser = through_a if attempt % 2 == 0 else through_b
        assert guesser.login("staff", f"tebakan-{attempt}") == 401, attempt
    assert through_b.login("staff", PASSWORD) == 429
    assert through_a.login("staff", PASSWORD) == 429
    with app.app_context():
        assert db.session.execute(select(LoginThrottle.username, LoginThrottle.failures)).all() == \
            [("staff", limit + 2)]


def test_a_document_uploaded_through_one_server_downloads_from_the_other(app, users, cluster):
    with app.app_context():
        case_id = make_case(current_step=2).id
        db.session.commit()
    staff = _logged_in(cluster.a.base, "staff")
    pdf = sample_pdf("Rencana kerja sama", "diunggah lewat server A")
    form = staff.form(_case_page(staff, case_id), "upload-plan")  # the checklist's own upload form
    landed = staff.submit(form, files={"upload": ("rencana.pdf", pdf)})
    assert landed.status == 200 and "filed as version 1." in flash_text(landed), flash_text(landed)

    on_b = staff.on(cluster.b.base)
    [link] = re.findall(r'href="(/admin/document/download/\?id=\d+)"', _case_page(on_b, case_id).text)
    download = on_b.get(link)
    assert download.status == 200 and download.body == pdf
    assert 'filename=rencana.pdf' in download.headers["Content-Disposition"]

    digest = hashlib.sha256(pdf).hexdigest()
    assert (cluster.uploads / digest[:2] / digest).read_bytes() == pdf  # in the shared folder
    assert _files_in(cluster.a.instance) == [] and _files_in(cluster.b.instance) == []  # and nowhere else


def _planned_meeting(day) -> int:
    """A case at step 7 with a meeting still to come on `day` at 09:00 WIB."""
    meeting = Meeting(case=make_case(current_step=7), place="Ruang Rapat Sekretariat Daerah",
                      scheduled_at=datetime.combine(day, time(9), CITY_TIME_ZONE).astimezone(timezone.utc),
                      agenda="Pembahasan draf KSB", status="planned",
                      attendees=[Attendee(name="Sri Wahyuni", position="Kasubbag", organisation="Bagian Pemerintahan")])
    db.session.add(meeting)
    db.session.flush()
    return meeting.id


def test_invitations_generated_at_once_through_both_servers_take_consecutive_numbers(app, users, cluster):
    day = local_today() + timedelta(days=5)
    while not is_working_day(day):
        day += timedelta(days=1)
    with app.app_context():
        make_user("staff", username="staff2", full_name="Pengguna staff dua")
        meetings = [_planned_meeting(day), _planned_meeting(day)]
        db.session.commit()
    people = [_logged_in(cluster.a.base, "staff"), _logged_in(cluster.b.base, "staff2")]
    asked = [person.get(f"/admin/meeting/letter/?id={meeting}&kind=invitation")
             for person, meeting in zip(people, meetings)]
    first = SETTING_DEFAULTS.letter_number_invitation.format(seq="001", year=day.year, case="")
    assert all(page.status == 200 and f"take number {first}" in page.text for page in asked)  # a preview
    forms = [person.form(page, action="/admin/meeting/letter/") for person, page in zip(people, asked)]
    results = [None, None]
    start = threading.Barrier(2, timeout=30)

    def confirm(index):
        start.wait()
        results[index] = people[index].submit(forms[index], press="new_number")

    threads = [threading.Thread(target=confirm, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    expected = {SETTING_DEFAULTS.letter_number_invitation.format(seq=f"{n:03d}", year=local_today().year, case="")
                for n in (1, 2)}
    with app.app_context():
        numbers = {meeting: db.session.execute(select(Document.letter_number).where(
            Document.meeting_id == meeting)).scalar_one() for meeting in meetings}
        assert db.session.get(Counter, f"letter:invitation:{local_today().year}").value == 2
    assert set(numbers.values()) == expected
    for meeting, page in zip(meetings, results):
        assert page.status == 200 and f"no. {numbers[meeting]} filed as version 1." in flash_text(page)


def test_one_case_advanced_at_once_through_both_servers_moves_one_step(app, users, cluster):
    with app.app_context():
        make_user("staff", username="staff2", full_name="Pengguna staff dua")
        case = make_case(current_step=2)
        for kind, title in (("plan", "Rencana"), ("opd_draft", "Draf OPD"), ("disposition_sheet", "Lembar disposisi")):
            make_document(case, kind, title)  # this step's evidence and that of the next steps
        db.session.commit()
        case_id, version = case.id, case.version
        events_before = db.session.execute(select(func.count()).select_from(StepEvent)
                                           .where(StepEvent.case_id == case_id)).scalar_one()
    people = [_logged_in(cluster.a.base, "staff"), _logged_in(cluster.b.base, "staff2")]
    forms = [person.form(_case_page(person, case_id), "move-advance") for person in people]
    assert [(form.value("step"), form.value("version")) for form in forms] == [("2", str(version))] * 2
    results = [None, None]
    start = threading.Barrier(2, timeout=30)

    def advance(index):
        start.wait()
        results[index] = people[index].submit(forms[index], {"note": f"lewat server {'AB'[index]}"})

    threads = [threading.Thread(target=advance, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert [page.status for page in results] == [200, 200]
    said = [flash_text(page) for page in results]
    landed = [index for index, text in enumerate(said) if text.startswith("Saved:")]
    refused = [index for index, text in enumerate(said) if "was already moved by" in text]
    assert len(landed) == 1 and len(refused) == 1 and landed != refused, said
    winner = ("Pengguna staff", "Pengguna staff dua")[landed[0]]
    assert f"was already moved by {winner}" in said[refused[0]] and "it is now at step 3" in said[refused[0]]
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.current_step, case.version) == (3, version + 1)
        events = db.session.execute(select(StepEvent.kind, StepEvent.from_step, StepEvent.to_step, StepEvent.note)
                                    .where(StepEvent.case_id == case_id).order_by(StepEvent.id)).all()
    assert len(events) == events_before + 1
    assert tuple(events[-1]) == ("advance", 2, 3, f"lewat server {'AB'[landed[0]]}")
