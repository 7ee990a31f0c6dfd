"""Evaluation of Arkiv: the gold set of questions and the measures run against it."""
