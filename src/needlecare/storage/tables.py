"""Every table of the app on one metadata: importing this module registers them all.

The table classes live beside the code that owns them (``models``, ``clinics``, ``newsletter``); whatever
needs the whole schema (Alembic's environment, schema checks) imports :data:`metadata` from here instead of
each module for its side effect.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from needlecare.storage import clinics, models, newsletter

#: The metadata holding every table.
metadata: MetaData = models.Base.metadata

#: The modules whose tables :data:`metadata` holds.
MODULES = (models, clinics, newsletter)
