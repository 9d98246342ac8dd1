"""Background jobs on a Dramatiq task queue: photo analysis, outgoing mail and the reminder scheduler.

With ``NEEDLECARE_BROKER_URL`` unset, jobs run in-process right after they are enqueued (nothing extra has to
be started); with ``redis://...`` they go to a Redis queue shared by every web process and every
``needlecare worker`` (on any machine). Messages carry row ids only; results are written idempotently to the
database (see :mod:`needlecare.jobs.photos` and :mod:`needlecare.jobs.mail`).
"""
