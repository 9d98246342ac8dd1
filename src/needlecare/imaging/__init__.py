"""Imaging core: pure functions on arrays (decoding, colour, face geometry, redness maps, rendering).

Nothing in this package touches the database, the web or the command line.
"""
