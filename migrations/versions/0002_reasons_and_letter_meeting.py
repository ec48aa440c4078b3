"""hold and cancel reasons, the meeting a letter was generated from

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 17:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

HOLD = "'waiting_opd_draft', 'waiting_counterparty', 'waiting_legal_opinion', 'other'"
CANCEL = "'withdrawn', 'requirements_not_met', 'rejected', 'duplicate'"


def upgrade():
    with op.batch_alter_table('cooperation_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(op.f('ck_cooperation_case_hold_reason'),
                                         f"hold_reason IS NULL OR hold_reason IN ({HOLD})")
        batch_op.create_check_constraint(op.f('ck_cooperation_case_cancel_reason'),
                                         f"cancel_reason IS NULL OR cancel_reason IN ({CANCEL})")
        batch_op.create_index(batch_op.f('ix_cooperation_case_hold_reason'), ['hold_reason'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperation_case_cancel_reason'), ['cancel_reason'], unique=False)
    # Cases already on hold or cancelled before reasons had categories.
    op.execute("UPDATE cooperation_case SET hold_reason = 'other' WHERE status = 'on_hold'")
    op.execute("UPDATE cooperation_case SET cancel_reason = 'withdrawn' WHERE status = 'cancelled'")

    with op.batch_alter_table('step_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(op.f('ck_step_event_reason'),
                                         f"reason IS NULL OR reason IN ({HOLD}, {CANCEL})")

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_document_meeting_id_meeting'), 'meeting', ['meeting_id'], ['id'],
                                    ondelete='SET NULL')
    # Letters generated before: they came from the case's latest meeting.
    op.execute("UPDATE document SET meeting_id = (SELECT max(meeting.id) FROM meeting "
               "WHERE meeting.case_id = document.case_id) "
               "WHERE kind IN ('invitation', 'memo') AND letter_number IS NOT NULL AND file_sha256 IS NOT NULL")


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_document_meeting_id_meeting'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_document_meeting_id'))
        batch_op.drop_column('meeting_id')
    with op.batch_alter_table('step_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_step_event_reason'), type_='check')
        batch_op.drop_column('reason')
    with op.batch_alter_table('cooperation_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cooperation_case_cancel_reason'))
        batch_op.drop_index(batch_op.f('ix_cooperation_case_hold_reason'))
        batch_op.drop_constraint(op.f('ck_cooperation_case_cancel_reason'), type_='check')
        batch_op.drop_constraint(op.f('ck_cooperation_case_hold_reason'), type_='check')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('hold_reason')
