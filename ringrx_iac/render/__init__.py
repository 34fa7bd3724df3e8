"""Output renderers: diagnostics (:mod:`.diagnostics`), plans and apply reports (:mod:`.plan`)."""
