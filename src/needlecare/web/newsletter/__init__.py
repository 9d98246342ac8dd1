"""Newsletter (beauty resources, tips and news): double opt-in, consent record, one-click unsubscribe."""
