"""What RingRx sends for an event: one implementation for the simulator and the CLI.

- :mod:`.samples`: built-in synthetic (PHI-free) events per type, with every documented token.
- :mod:`.request`: token replacement and the request a callback produces for an event.
- :mod:`.secrets`: a configured callback's secrets, hidden while a request is built for show.
- :mod:`.eventfile`, :mod:`.contract`, :mod:`.runner`: ``--event`` files, ``tests.yaml``
  and running its tests; :mod:`.probe`: marked probe events; :mod:`.destinations`: where
  ``test`` and ``probe`` may send.
"""
