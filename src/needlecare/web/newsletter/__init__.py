"""Newsletter pages (beauty resources, tips and news): double opt-in, consent record, one-click unsubscribe.

The use cases behind them are in :mod:`needlecare.newsletter`.
"""
