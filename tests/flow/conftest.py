"""Fixtures for the in-process authorization-flow tests."""

from __future__ import annotations
