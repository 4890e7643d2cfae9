"""Prioritised screening: features, model, retraining schedule, stopping rule, simulation.

Pure Python on numpy, scipy and scikit-learn: nothing here imports Django, so the Celery
training task (`screening.services_ranking`) and the simulation command run exactly this code.
"""
