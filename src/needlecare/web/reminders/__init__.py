"""Reminder settings (time zone, on/off) and the per-patient calendar feed."""
