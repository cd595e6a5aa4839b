"""The standard words a report shows as data: the stage names and loss reasons CRMs ship
with (and the demo uses), and the business profiles of the shipped params. A Persian
report translates these; a stage, reason or profile a company named itself is its own name
and is shown as it is, like a deal's or a rep's name.
"""

from __future__ import annotations

from .i18n import tr

#: the stages of the demo's pipeline and of Salesforce's and HubSpot's default ones
STANDARD_STAGES = (
    "Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation",
    "Closed Won", "Closed Lost",
    "Won",  # the funnel's last step (reporting.metrics.conversion)
)
#: the demo's loss reasons (common picklist values)
STANDARD_LOSS_REASONS = (
    "Not a fit", "Chose a competitor", "No decision", "Went dark", "Price", "No budget",
    "Timing", "Missing feature",
)
#: the business profiles of the shipped params (report.yaml ``profiles``, baselines.yaml)
STANDARD_PROFILES = ("default", "enterprise", "velocity")
STANDARD_TERMS = frozenset(STANDARD_STAGES + STANDARD_LOSS_REASONS + STANDARD_PROFILES)


def crm_term(value, language: str | None = None):
    """``value`` in the report's language when it is a standard CRM word ('Closed Won'
    is 'بسته‌شده (برده)' in Persian, the shipped profile 'velocity' 'پرسرعت'); any other
    value (a stage a company named) as it is. A profile's key in the catalogue is
    'profile:<name>' (the profile 'velocity' and the word 'velocity' read differently)."""
    from .formatting import active

    lang = language or active().language
    if lang == "en" or not isinstance(value, str) or value not in STANDARD_TERMS:
        return value
    return tr(f"profile:{value}" if value in STANDARD_PROFILES else value, lang)
