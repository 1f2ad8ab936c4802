"""Data: downloads, and the readers of each dataset kind (tables, weather, images), checked.

Readers take paths and return arrays or tables; a bad file raises WorkflowInputError naming it.
"""
