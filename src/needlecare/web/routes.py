"""Every router of the app, in one list per surface (HTML pages, JSON API)."""

from __future__ import annotations

from fastapi import APIRouter

from needlecare.web import home
from needlecare.web.accounts import api as accounts_api
from needlecare.web.accounts import pages as accounts_pages
from needlecare.web.checkins import api as checkins_api
from needlecare.web.checkins import pages as checkins_pages
from needlecare.web.clinics import api as clinics_api
from needlecare.web.clinics import pages as clinics_pages
from needlecare.web.exports import api as exports_api
from needlecare.web.exports import pages as exports_pages
from needlecare.web.ingredients import api as ingredients_api
from needlecare.web.ingredients import pages as ingredients_pages
from needlecare.web.learn import pages as learn_pages
from needlecare.web.newsletter import pages as newsletter_pages
from needlecare.web.photos import api as photos_api
from needlecare.web.photos import pages as photos_pages
from needlecare.web.reminders import pages as reminders_pages
from needlecare.web.timeline import api as timeline_api
from needlecare.web.timeline import pages as timeline_pages
from needlecare.web.treatments import api as treatments_api
from needlecare.web.treatments import pages as treatments_pages

PAGE_ROUTERS: list[APIRouter] = [
    home.router,
    accounts_pages.router,
    treatments_pages.router,
    photos_pages.router,
    checkins_pages.router,
    timeline_pages.router,
    ingredients_pages.router,
    exports_pages.router,
    learn_pages.router,
    reminders_pages.router,
    newsletter_pages.router,
    clinics_pages.router,
]
API_ROUTERS: list[APIRouter] = [
    accounts_api.router,
    treatments_api.router,
    photos_api.router,
    checkins_api.router,
    timeline_api.router,
    ingredients_api.router,
    exports_api.router,
    reminders_pages.api_router,
    clinics_api.router,
]
