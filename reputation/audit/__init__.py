"""The audit trail: who did what, when, to which object, in each practice's schema.

On the ground floor with `reputation.core`: every app records events through
`reputation.audit.services.audit_record`, and this app imports nothing from them.
"""
