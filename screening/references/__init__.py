"""Reading reference exports and finding duplicate records.

Pure Python on purpose (no Django import): the services in ``screening.services`` load and save
rows, these modules only turn bytes into records and records into duplicate groups.
"""
