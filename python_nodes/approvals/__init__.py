"""Approvals: multi-step chains by role, segregation of duties, signed email links and Slack buttons."""
