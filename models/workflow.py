"""The 17-step procedure of the Standar Pelayanan Kerjasama, as one table.

Who performs a step and what must exist before it can be completed is a one-line edit
here and nowhere else. No Flask imports: the procedure is plain data and functions.
"""
from dataclasses import dataclass

from models.user import Role


@dataclass(frozen=True)
class Step:
    number: int
    title_id: str
    title_en: str
    role: Role
    requires: tuple[str, ...] = ()


STAFF, KASUBBAG, KABAG = Role.STAFF, Role.KASUBBAG, Role.KABAG

STEPS: tuple[Step, ...] = (
    Step(1, "Menghimpun dan menelaah peraturan perundang-undangan", "Gather and review the applicable regulations", STAFF, ("document:regulation_notes",)),
    Step(2, "Menyusun rencana kerja sama", "Compose the agreement plan", STAFF, ("document:plan",)),
    Step(3, "Menerima draf dari OPD", "Receive the draft from the OPD", STAFF, ("document:opd_draft",)),
    Step(4, "Menyampaikan draf dengan lembar disposisi", "Forward the draft with a disposition sheet", KASUBBAG, ("document:disposition_sheet",)),
    Step(5, "Menerima draf dan mendisposisi", "Receive the draft and write a disposition", KABAG, ("disposition",)),
    Step(6, "Merencanakan pembahasan dengan Tim TKKSD dan OPD", "Plan the discussion with the TKKSD team and the OPD", KASUBBAG, ("meeting:planned",)),
    Step(7, "Membuat dan mengirim undangan rapat", "Write and send the meeting invitations", STAFF, ("document:invitation",)),
    Step(8, "Melaksanakan rapat pembahasan", "Hold the discussion meeting", KASUBBAG, ("meeting:held",)),
    Step(9, "Menyusun Nota Dinas hasil rapat", "Write the memo (Nota Dinas) of the meeting's results", STAFF, ("document:memo",)),
    Step(10, "Menyampaikan Nota Dinas kepada Kepala Bagian", "Send the memo to the Head of Section", KASUBBAG),
    Step(11, "Menerima Nota Dinas dan mendisposisi", "Receive the memo and write a disposition", KABAG, ("disposition",)),
    Step(12, "Menyusun dokumen final", "Compose the final agreement document", STAFF, ("document:final_draft",)),
    Step(13, "Menyampaikan dokumen final", "Send the final document up", KASUBBAG),
    Step(14, "Menerima dokumen final dan mendisposisi", "Receive the final document and write a disposition", KABAG, ("disposition",)),
    Step(15, "Menerima dokumen final yang telah didisposisi", "Receive the final document with its disposition", KASUBBAG),
    Step(16, "Menyerahkan dokumen kepada OPD", "Hand the agreement document to the OPD", STAFF, ("document:handover_receipt",)),
    Step(17, "Mengarsipkan dan menyimpan dokumen", "Archive and store the agreement document", STAFF, ("document:signed_agreement",)),
)

FIRST_STEP, LAST_STEP = STEPS[0].number, STEPS[-1].number


def step(number: int) -> Step:
    """The step with this number; raises KeyError for a number outside the procedure."""
    if not FIRST_STEP <= number <= LAST_STEP:
        raise KeyError(number)
    return STEPS[number - 1]
