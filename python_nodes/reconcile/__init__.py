"""Reconciliation sweeps: find what the webhooks missed, what went stale, and bills that disagree with orders."""
