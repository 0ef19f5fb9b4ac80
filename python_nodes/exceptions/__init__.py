"""Exception cases: owned, deduplicated, SLA-bound cases with an Odoo write-back and an audit trail."""
