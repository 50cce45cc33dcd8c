"""
Order intake: a gRPC service on a live node through which external strategy services submit
unified Orders and stream back their results (issue 24).

- :mod:`~nautilus_ext.intake.proto`: the ``.proto`` and its generated modules (built on first import).
- :mod:`~nautilus_ext.intake.config`: the ``intake:`` YAML section and the strategy's frozen config.
- :mod:`~nautilus_ext.intake.events`: the bounded, cursor-addressed result log.
- :mod:`~nautilus_ext.intake.service`: authentication, allowlists, rate limits, the servicer.
- :mod:`~nautilus_ext.intake.strategy`: :class:`IntakeStrategy`, the node component that hands each
  Order to ``submit_unified`` / ``submit_group`` (the in-process path: validation, routing, gate, audit).

Nothing is re-exported here: importing the package must not import NautilusTrader.
"""
