"""Writes of the matching app, one module per part of the lifecycle:

- ``runs``: matching runs, the upsert of matches, lead routing, deadlines, escalation
- ``lead_lifecycle``: the lead's transition table (which action, in which state, by whom)
- ``leads``: what bank officers do with a lead (claim, contact, invite, decline, reassign)
- ``applications``: what a firm does with an application (submit, withdraw)
- ``review``: what a bank does with an application (accept … disburse, repay, default)
"""
