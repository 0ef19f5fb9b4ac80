"""Backorder triage: rank the orders a shortage hits, with every factor's contribution spelled out."""
