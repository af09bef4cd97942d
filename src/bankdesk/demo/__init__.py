"""The demo bank: a seeded organisation and a synthetic customer base with a year of cases."""
