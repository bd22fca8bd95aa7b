"""The SOAP edge: spyne types, the service, faults and the WSGI application."""

from gateway import spyne_compat

spyne_compat.install()
