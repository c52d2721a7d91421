"""Continuous monitoring: which advisories changed, a targeted re-match of the stored SBOMs
they name (no image I/O), a full re-match on a slower schedule, a registry watch for
registries without webhooks, and deduplicated alerts (Slack, signed webhooks, email).

* :mod:`.changes`: compare the advisory database with the state the monitor last saw.
* :mod:`.rematch`: the component index, targeted and full re-match, finding events.
* :mod:`.alerts`: what deserves an alert, the channels, dedup and digest mode.
* :mod:`.watch`: poll watched tags for new digests, with backoff.
* :mod:`.run`: one cycle of all of it, and the loop.
"""
