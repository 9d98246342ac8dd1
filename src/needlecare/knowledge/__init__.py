"""Recovery knowledge: cited evidence, expected course, aftercare plan, ingredient checker, triage, curve."""
