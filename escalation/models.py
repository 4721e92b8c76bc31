"""Escalations, platform reports and evidence packs (built out in a later issue)."""
