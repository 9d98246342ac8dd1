"""The newsletter's use cases, below the web and the command line that both call them.

:mod:`needlecare.newsletter.service` requests, confirms and ends subscriptions and records the mails (double
opt-in confirmations and issues) on the mail job; :mod:`needlecare.newsletter.tokens` signs the links in them.
"""
