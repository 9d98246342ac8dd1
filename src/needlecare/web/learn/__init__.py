"""Public articles: the list at ``/learn`` and one article at ``/learn/{slug}``."""
