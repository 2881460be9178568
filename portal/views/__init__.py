"""The portal's views: thin, one engine call each. Routes are in ``portal.views.urls``."""
