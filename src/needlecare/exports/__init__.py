"""Exports of one patient's own data: CSV tables, a FHIR R4 bundle and a PDF report for the dermatologist.

Plain functions over the storage models. :func:`needlecare.exports.data.collect` reads everything a user owns
(always scoped by ``user_id``); the format modules turn that record into bytes or text.
"""
