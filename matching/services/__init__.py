"""Writes of the matching app, one module per part of the lifecycle:

- ``dispatch``: enqueueing matching runs, the sweep of unmatched needs, planning a run into chunks
- ``evaluation``: one chunk of a run judged and written (the upsert, verdict JSON, advisory locks)
- ``routing``: which branch receives a lead, the statuses awaiting a first response
- ``escalation``: overdue leads escalated, a need passed on to the next-ranked product
- ``events``: who at the bank hears about an application; the webhook payloads handed to the outbox
- ``lead_lifecycle``: the lead's transition table (which action, in which state, by whom)
- ``leads``: what bank officers do with a lead (claim, contact, invite, decline, reassign)
- ``applications``: what a firm does with an application (submit, withdraw)
- ``review``: what a bank does with an application (accept … disburse, repay, default)
- ``guarantee``: the government-guarantee route after a decline; ``loans``: the loan after disbursement
"""
