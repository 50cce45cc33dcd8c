"""
Venue adapters built the NautilusTrader way (config, providers, data, execution, factories).

* One folder per venue family; each declares in ``registration.py`` which venue entries it
  serves and how it builds their clients (:mod:`nautilus_ext.adapters.registry`). A new venue is
  a new folder plus a config file.
* :mod:`nautilus_ext.adapters.symbology`: canonical keys <-> Nautilus instrument ids, one light
  module per venue (no client code).
* Adapters import only :mod:`nautilus_ext.errors`, :mod:`nautilus_ext.instruments` and
  :mod:`nautilus_ext.messages` (what they publish for the layers above) from the core.
"""
