"""Clinic accounts: staff and patients, invitations, clinic-recorded treatments with aftercare, dashboard."""
