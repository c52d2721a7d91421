"""Mirror: copy what the fleet runs to a registry you own, by digest, and pin references to it.

``mapping`` is the one home of the naming rule (source reference -> mirror repository) and of
the mapping file ``mirror`` writes and ``pin`` reads."""
