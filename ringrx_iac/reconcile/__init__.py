"""The reconciler: live state, desired state, diff, plan, apply, drift and import.

Public entry points:

- :func:`ringrx_iac.reconcile.live.normalise` (``RemoteAccount`` -> ``LiveState``)
- :func:`ringrx_iac.reconcile.desired.from_config` (``Config`` -> ``DesiredState``)
- :func:`ringrx_iac.reconcile.planner.make_plan` (desired + live -> ``Plan``)
- :class:`ringrx_iac.reconcile.applier.Applier` (``Plan`` + client -> ``ApplyReport``)
- :func:`ringrx_iac.reconcile.importer.import_yaml` (``RemoteAccount`` -> YAML text)
"""
