"""Reconcile: the bridge looks back at what each vendor holds (docs/operations-reconcile.md).

:mod:`.compare` says whether an account holds what the mapping makes of a user,
:mod:`.plan` joins the accounts read back with the bridge's users into findings,
:mod:`.apply` turns the findings into outbox entries, and :mod:`.checks` runs the plan on a
schedule, resumably, and keeps its findings.
"""
