"""Interop tests: real peers (libcoap's coap-client, aiocoap) against the simulated board."""

import conformance


def pytest_sessionfinish(session):
    conformance.write()
