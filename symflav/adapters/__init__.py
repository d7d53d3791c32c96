"""Adapters: the generated numeric modules inside other programs (tunnelling, finite temperature).

An adapter uses only a generated module (``generated/<name>/numeric.py``, loaded by path or
passed as a module) and the client package; it imports nothing else of symflav.
"""
