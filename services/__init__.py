"""Seinpost services: intake, classifier, aggregator, their shared runtime and the CLI."""
