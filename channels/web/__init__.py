"""Beacon's web channel: the parents' and carers' widget (see docs/widget.md)."""
