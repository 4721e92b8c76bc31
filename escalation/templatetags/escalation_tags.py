"""Escalation panels on inbox pages: `{% load escalation_tags %}{% escalation_panels mention %}`.
The inbox template loads this library; the inbox's code never imports escalation."""

from __future__ import annotations

from django import template

from escalation import selectors
from tenants.selectors import role_at_least

register = template.Library()


@register.inclusion_tag("escalation/_panel.html", takes_context=True)
def escalation_panels(context, mention):
    role = getattr(context.get("request"), "practice_role", None)
    return {
        "mention": mention,
        "can_draft": role_at_least(role, "responder"),
        "can_manage": role_at_least(role, "manager"),
        "csrf_token": context.get("csrf_token"),
        **selectors.mention_escalation_panel(mention),
    }
