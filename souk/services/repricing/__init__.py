"""Repricing (issue 6): rules per product or category run as an ordered, pure pipeline
(`steps`, `pipeline`), decisions logged with their trace and applied, proposed or only
logged by mode (`runs`), answered and reverted by staff (`desk`)."""
