"""The standard words a report shows as data: the stage names and loss reasons CRMs ship
with (and the demo uses), and the business profiles of the shipped params. A Persian
report translates these; a stage, reason or profile a company named itself is its own name
and is shown as it is, like a deal's or a rep's name.
"""

from __future__ import annotations

from .i18n import N_, N_p, tr, translations

#: the stages of the demo's pipeline and of Salesforce's and HubSpot's default ones
STANDARD_STAGES = (
    N_("Prospecting"), N_("Qualification"), N_("Discovery"), N_("Proposal"), N_("Negotiation"),
    N_("Closed Won"), N_("Closed Lost"),
    N_("Won"),  # the funnel's last step (reporting.metrics.conversion)
)
#: the demo's loss reasons (common picklist values)
STANDARD_LOSS_REASONS = (
    N_("Not a fit"), N_("Chose a competitor"), N_("No decision"), N_("Went dark"), N_("Price"), N_("No budget"),
    N_("Timing"), N_("Missing feature"),
)
#: the business profiles of the shipped params (report.yaml ``profiles``, baselines.yaml)
STANDARD_PROFILES = (N_p("profile", "default"), N_p("profile", "enterprise"),
                     N_p("profile", "velocity"))
STANDARD_TERMS = frozenset(STANDARD_STAGES + STANDARD_LOSS_REASONS + STANDARD_PROFILES)


def crm_term(value, language: str | None = None):
    """``value`` in the report's language when it is a standard CRM word ('Closed Won'
    is 'بسته‌شده (برده)' in Persian, the shipped profile 'velocity' 'پرسرعت'); any other
    value (a stage a company named) as it is. A profile is a message with the context
    'profile' (the profile 'velocity' and the word 'velocity' read differently)."""
    from .formatting import active

    lang = language or active().language
    if lang == "en" or not isinstance(value, str) or value not in STANDARD_TERMS:
        return value
    if value in STANDARD_PROFILES:  # the profile 'velocity' and the word read differently
        return translations(lang).pgettext("profile", value)
    return tr(value, lang)
